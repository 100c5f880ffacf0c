"""Integration testing an approval flow: the request, its mail, the link's callback and the persisted state, end to end."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, approval_status, disagreements

DOC = """
# Integration testing an approval flow

A unit test proves the DAG's logic; an integration test proves the parts agree: the request reaches the
bridge, the approver is mailed, the link in the mail decides, and Airflow and the bridge end with the same
answer. This DAG is small on purpose — the test is the point:

- `approve_export` (`AirgateApprovalOperator`, policy `integration-testing`: finance, mailed through the
  channels file) asks; `export` runs on approval.
- `check_persistence` runs on every outcome and **validates state persistence** in the pipeline itself: it
  reads the bridge's record (`airgate.approval_status`) and fails the run unless the bridge's final state and
  option match the answer Airflow resumed the task with, and a person is named for a person's decision.

## The tests
- End to end on the real stack (`test/integration/testing-workflows.test.ts`): trigger, wait for the mail on
  the suite's SMTP server (**notification delivery**: the delivery is `sent`), open the mail's *Approve* link
  and confirm it (**callback handling**: the signed one-click link, usable once), then assert the task states,
  `check_persistence`'s XCom, and the audit trail (registered → vote → decided, chain verified).
- With `airgate.testing` (`airflow_plugin/tests/reference_dags/test_120_08_02_integration_testing.py`):
  approval, rejection, and a bridge that disagrees with Airflow (an Airflow timeout the bridge never
  decided), which `check_persistence` must catch.

## Try it
Trigger `120_08_02_integration_testing` as alice; bob receives a mail (see **Messages**, or the SMTP server of
the dev stack) whose *Approve* link decides.
"""


@dag(
    dag_id="120_08_02_integration_testing",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "testing", "intermediate", "success"],
)
def integration_testing() -> None:
    approve_export = AirgateApprovalOperator(
        task_id="approve_export",
        subject="Export the ledger to the auditors ({{ dag_run.run_id }})?",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def export() -> str:
        return "ledger exported"

    @task(trigger_rule="all_done")
    def check_persistence(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        answer = ti.xcom_pull(task_ids="approve_export")
        status = approval_status(ti.dag_id, ti.run_id, "approve_export")
        found = {
            "airflow_option": answer["chosen_options"][0] if answer else None,
            "bridge_option": status["option"] if status else None,
            "bridge_state": status["state"] if status else None,
            "deciders": [d["user"] for d in status["deciders"]] if status else [],
        }
        problems = disagreements(answer, status)
        if problems:
            raise ValueError("; ".join(problems))
        return found

    approve_export >> export() >> check_persistence()


integration_testing()
