"""Database approval sensor: poll the approval record in the bridge's store through an Airflow connection."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import REQUESTED_AT_KEY, ApprovalRecordSensor, RequestApprovalOperator

DOC = """
# Database approval sensor

When the approval lives in a database, the DAG can simply **poll the record**. `request_approval` registers an
external approval with the airgate bridge (no signal needed: the record *is* the signal), and
`wait_for_approval_record` polls the bridge's store through the Airflow connection `airgate_store`, reading
the store's read-only view `approval_status` (one row per approval try: state, decided_at, outcome, number
of votes). On PostgreSQL, grant a read-only role `SELECT` on that view alone.

## The SQL sensor
`airgate.ApprovalRecordSensor` is Airflow's `SqlSensor` (common-sql provider, with the sqlite
provider's hook for the default store): a query, a *failure* criterion checked first, then a *success*
criterion, `mode="reschedule"` (no worker slot between pokes), `poke_interval=10s` (a busy scheduler fails faster reschedules, see 120_06_02), `timeout=1h`; a refusal
or the timeout skips it (`soft_fail`). The sensor returns the row it found (and when) as its XCom; `read_record` names its fields for the tasks after it, without querying again.

## Conditions on the record
- final states only (`state IN (...)` in the query), latest try of this task of this run;
- **success**: approved *with at least `MIN_VOTES` counted votes* (a record changed by hand has none);
- **failure**: rejected, expired (a policy deadline) or cancelled: the sensor skips, and `load` with it.

## Polling metrics
Each poke is counted in Airflow's metrics (`airgate.sensor.wait_for_approval_record.{pending,found,refused}`).
`report_polling` (runs on every path) returns the wait from the request to the decision, the detection lag
from the decision to the poke that saw it (at most about one poke interval).

## Try it
Trigger `120_02_03_db_approval` as alice; approve as bob in **Approvals**: within one poke `load` runs. Reject
another run: the sensor is skipped, and `report_polling` still reports.
"""

POKE_SECONDS = 10
MIN_VOTES = 1
RECORD = """
SELECT state, decided_at, votes, outcome FROM approval_status
WHERE dag_id = :dag_id AND run_id = :run_id AND task_id = 'request_approval'
  AND state IN ('approved', 'rejected', 'expired', 'cancelled')
ORDER BY try_number DESC LIMIT 1
"""


def approved(record: tuple[Any, ...]) -> bool:
    state, _decided_at, votes, _outcome = record
    return bool(state == "approved" and votes >= MIN_VOTES)


def refused(record: tuple[Any, ...]) -> bool:
    return bool(record[0] != "approved")


@dag(
    dag_id="120_02_03_db_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def db_approval() -> None:
    request = RequestApprovalOperator(
        task_id="request_approval",
        subject="Load the customer table for {{ dag_run.run_id }}?",
        body="The sensor polls this approval's record in the bridge's store.",
    )

    wait = ApprovalRecordSensor(
        task_id="wait_for_approval_record",
        sql=RECORD,
        parameters={"dag_id": "{{ dag.dag_id }}", "run_id": "{{ run_id }}"},
        success=approved,
        failure=refused,
        poke_interval=POKE_SECONDS,
        timeout=timedelta(hours=1).total_seconds(),
        mode="reschedule",
    )

    @task
    def read_record(found: dict[str, Any]) -> dict[str, Any]:
        # The sensor's XCom is the row it found and when: the record as it was when the wait ended.
        state, decided_at, votes, _outcome = found["record"]
        return {"state": state, "decided_at": decided_at, "votes": votes, "detected_at": found["detected_at"]}

    @task
    def load(record: dict[str, Any]) -> str:
        return f"loaded; approved at {record['decided_at']}"

    @task(trigger_rule="all_done")
    def report_polling(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        record = ti.xcom_pull(task_ids="read_record")
        requested = ti.xcom_pull(task_ids="request_approval", key=REQUESTED_AT_KEY)
        if not record:
            return {"outcome": "not_approved"}
        decided = datetime.fromisoformat(record["decided_at"])
        return {
            "outcome": "approved",
            "waited_seconds": (decided - datetime.fromisoformat(requested)).total_seconds(),
            "detection_lag_seconds": (
                datetime.fromisoformat(record["detected_at"]) - decided
            ).total_seconds(),
        }

    record = read_record(wait.output)
    request >> wait >> record
    load(record) >> report_polling()


db_approval()
