"""File-based approval gate: the bridge writes the decision as a file; a FileSensor waits for it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.sensors.filesystem import FileSensor
from airflow.sdk import dag, task

from airgate import (
    FILE_SIGNAL,
    SIGNALS_CONN_ID,
    ApprovalSignal,
    RequestApprovalOperator,
    read_signal_file,
    remove_signal_file,
    signal_file,
    signal_path,
)

DOC = """
# File-based approval gate

The oldest approval signal there is: *a file appears*. `request_approval` registers an external approval with
the airgate bridge asking for a **file signal**; once people decide, the bridge's effect worker writes
`<signals dir>/<dag_id>/<run_id>/request_approval.json` atomically (written beside, then renamed, so the sensor
never reads half a file). The signals directory is the `airgate_signals` filesystem connection's `path` on the
Airflow side and `AIRGATE_SIGNALS_DIR` on the bridge's (the dev stack sets both).

## Steps
1. `wait_for_approval_file`: a `FileSensor` on that path, `mode="reschedule"`, poking every 10 s for at most
   1 h; `soft_fail=True` skips the rest when nobody decides in time.
2. `parse_approval`: reads the decision metadata from the file (state, option, who decided, why, when) and
   branches: `load` on approval, `record_rejection` otherwise.
3. `cleanup_approval_file`: runs whatever happened (`all_done`) and deletes the file and the run's empty
   folder, so a rerun never finds a stale approval.

## Try it
Trigger `120_02_02_file_approval` as alice and approve as bob in **Approvals**; look for the file under
`.airgate/dev/signals/` while the run is between the sensor and the cleanup. Reject a second run:
`record_rejection` logs who rejected and why.
"""

TASK = "request_approval"


@dag(
    dag_id="120_02_02_file_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "beginner", "success"],
)
def file_approval() -> None:
    request = RequestApprovalOperator(
        task_id=TASK,
        subject="Load the nightly export of {{ dag_run.run_id }}?",
        body="Approving writes an approval file this run waits for.",
        signals=[FILE_SIGNAL],
    )

    wait = FileSensor(
        task_id="wait_for_approval_file",
        fs_conn_id=SIGNALS_CONN_ID,
        filepath=signal_file(TASK),
        mode="reschedule",
        poke_interval=10,
        timeout=timedelta(hours=1).total_seconds(),
        soft_fail=True,
    )

    @task.branch
    def parse_approval(**context: Any) -> str:
        signal = read_signal_file(signal_path(context["dag"].dag_id, context["run_id"], TASK))
        context["ti"].xcom_push(key="approval", value=signal)
        return "load" if signal["state"] == "approved" else "record_rejection"

    @task
    def load(**context: Any) -> str:
        signal: ApprovalSignal = context["ti"].xcom_pull(task_ids="parse_approval", key="approval")
        return f"loaded, approved by {signal['deciders'][-1]['user']} at {signal['decided_at']}"

    @task
    def record_rejection(**context: Any) -> str:
        signal: ApprovalSignal = context["ti"].xcom_pull(task_ids="parse_approval", key="approval")
        last = signal["deciders"][-1] if signal["deciders"] else None
        return f"{signal['state']}: {last['user']}: {last['reason']}" if last else signal["state"]

    @task(trigger_rule="all_done")
    def cleanup_approval_file(**context: Any) -> None:
        remove_signal_file(signal_path(context["dag"].dag_id, context["run_id"], TASK))

    # After both branches (not beside them: a branch skips every direct downstream task it does not choose).
    request >> wait >> parse_approval() >> [load(), record_rejection()] >> cleanup_approval_file()


file_approval()
