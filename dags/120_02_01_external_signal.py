"""External signal sensor: the pipeline waits, with an ExternalTaskSensor, for a DAG run that carries the approval."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from airgate import ApprovalSignal, ApprovalSignalRunSensor, RequestApprovalOperator, trigger_dag

DOC = """
# External signal sensor

Some pipelines cannot hold a HITL task: the decision is made elsewhere and arrives as a **signal**. Here the
signal is a DAG run. `request_approval` registers an *external* approval with the airgate bridge and names the
signal it wants: "trigger `airgate_approval_signal` for my approval". People decide in the Approvals UI
(or any channel) under the bridge's policies; the bridge then triggers that DAG through its durable effects
(retried while Airflow is down, audited) with the decision as conf.

## The sensor
`wait_for_approval` is an `ApprovalSignalRunSensor`, airgate's `ExternalTaskSensor` on the `decision` task of
`airgate_approval_signal`:
- it matches the external run by **run id**, `airgate__<approval id>`, which only this approval's decision
  creates. A plain ExternalTaskSensor matches by logical date: two runs waiting at the same logical date (or
  two DAGs' approvals at one instant) would release each other, so the signal run has no logical date at all;
- `decision` succeeds on approval (the sensor succeeds, `deploy` runs) and is skipped on rejection
  (`skipped_states` makes the sensor skip, and `deploy` with it); on approval the sensor's XCom is the
  decision the signal run carries, and `deploy` names the approvers from it;
- `mode="reschedule"` and `poke_interval=10s`: between pokes the task frees its worker slot;
- `timeout=2h` with `soft_fail=True`: nobody deciding in time skips the deployment instead of failing the run.

## Approval via manual trigger
The signal DAG is an ordinary DAG: an operator with Airflow rights can trigger `airgate_approval_signal` by
hand (run id `airgate__<approval id>`, conf `{"airgate_approval": {"state":
"approved", ...}}`). That bypasses the bridge's policies, so Airflow's audit log, not the bridge, records it.

## Try it
Trigger `120_02_01_external_signal` as alice; as bob approve *Deploy ...* in **Approvals**. Within seconds an
`airgate_approval_signal` run appears, `wait_for_approval` succeeds and `deploy` reports who approved.
Trigger again and reject: the sensor and `deploy` are skipped.
"""


@dag(
    dag_id="120_02_01_external_signal",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "intermediate", "success"],
)
def external_signal() -> None:
    request = RequestApprovalOperator(
        task_id="request_approval",
        subject="Deploy build {{ dag_run.run_id }}?",
        body="The build passed its tests; approving triggers the signal this run waits for.",
        signals=[trigger_dag()],
    )

    wait_for_approval = ApprovalSignalRunSensor(
        task_id="wait_for_approval",
        approval_id=request.output,
        allowed_states=["success"],
        skipped_states=["skipped"],
        failed_states=["failed"],
        mode="reschedule",
        poke_interval=10,
        timeout=timedelta(hours=2).total_seconds(),
        soft_fail=True,
    )

    @task
    def deploy(decision: ApprovalSignal, run_id: str) -> str:
        # The sensor's XCom is the decision it saw in the signal run.
        approvers = ", ".join(d["user"] for d in decision["deciders"])
        return f"deployed {run_id} (approved by {approvers})"

    deploy(wait_for_approval.output, run_id="{{ run_id }}")


external_signal()
