"""Pause and resume: the pipeline pauses at an approval and resumes on the decision, without holding a worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import PokeReturnValue, dag, task

from airgate import AirgateApprovalOperator

DOC = """
# Pause and resume

The pipeline **pauses** where a person must look, and **resumes** when they have decided — without a worker
slot held while it waits, and without losing the question if anything restarts in between.

`stage_changes` → `request_approval` ∥ `wait_for_approval` → `resume_or_stop` → `publish_changes` | `discard_changes`

## The task that waits for approval
`request_approval` (`AirgateApprovalOperator`) writes the request and sits in Airflow's `awaiting_input`
state until the bridge answers it. `wait_for_approval` is the pipeline's pause: a **sensor in reschedule
mode** (`mode="reschedule"`, `poke_interval` 15 s). Each poke is a short run that asks Airflow whether
`request_approval` has an answer; between pokes the sensor is `up_for_reschedule` and holds no worker slot,
no pool slot and no triggerer. When the answer is there, the sensor hands it on as its XCom and
`resume_or_stop` continues with `publish_changes` (*Approve*) or `discard_changes` (*Reject*).

## Approval state persists across the pause
Nothing of the approval lives in the sensor's memory. The question, the votes and the audit trail are in the
bridge's store; the answer is in Airflow's metadata database (the HITL response and `request_approval`'s
XCom). A sensor poke, a worker, the scheduler or the bridge may restart while the pipeline is paused: the
next poke reads the same state, and a bridge that was down finds the request again by reconciling.

## Timeouts
- `request_approval` answers itself after `response_timeout` (4 hours) with its default, *Reject*;
- `wait_for_approval` gives up after `timeout` (5 hours, longer than the approval's own), so a paused run
  always ends: a sensor timeout fails the run, which shows that something other than people went wrong.

Policy `default`: anyone with an Airflow role of user or above, except the person who triggered the run.

## Try it
Trigger `120_01_02_pause_resume` as alice; watch `wait_for_approval` go `up_for_reschedule` between pokes.
As bob, approve (or reject) in **Approvals**: within a poke the run resumes.
"""


@dag(
    dag_id="120_01_02_pause_resume",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "beginner", "success"],
)
def pause_resume() -> None:
    @task
    def stage_changes() -> dict[str, Any]:
        return {"table": "billing.invoices", "changed_rows": 214}

    request_approval = AirgateApprovalOperator(
        task_id="request_approval",
        subject="Publish {{ ti.xcom_pull(task_ids='stage_changes')['changed_rows'] }} staged changes?",
        body="Staged in `{{ ti.xcom_pull(task_ids='stage_changes')['table'] }}` by run `{{ run_id }}`.",
        response_timeout=timedelta(hours=4),
        defaults="Reject",
    )

    @task.sensor(mode="reschedule", poke_interval=15, timeout=timedelta(hours=5).total_seconds())
    def wait_for_approval(**context: Any) -> PokeReturnValue:
        # Each poke starts afresh: the decision is read from Airflow, where it persists, never kept here.
        decision = context["ti"].xcom_pull(task_ids="request_approval")
        return PokeReturnValue(is_done=decision is not None, xcom_value=decision)

    @task.branch
    def resume_or_stop(decision: dict[str, Any]) -> str:
        return "publish_changes" if decision["chosen_options"] == ["Approve"] else "discard_changes"

    @task
    def publish_changes(staged: dict[str, Any]) -> str:
        return f"published {staged['changed_rows']} rows to {staged['table']}"

    @task
    def discard_changes(staged: dict[str, Any], decision: dict[str, Any]) -> str:
        return f"discarded {staged['changed_rows']} rows ({decision['chosen_options'][0]})"

    staged = stage_changes()
    decision = wait_for_approval()
    staged >> [request_approval, decision]
    resume_or_stop(decision) >> [publish_changes(staged), discard_changes(staged, decision)]


pause_resume()
