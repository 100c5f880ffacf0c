"""Rollback on rejection: a release is applied, people review it, and rejecting it undoes what was applied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, chain, dag, task

from airgate import AirgateBranchOperator, RollbackStatus, rollback_status

DOC = """
# Rollback on rejection

Some changes can only be judged once they are live: a schema migration, a data backfill, a config switch.
This DAG applies a release step by step (`apply_schema` → `apply_data` → `apply_config`), then asks people
whether to keep it (`review_release`, an `AirgateBranchOperator`, at most 6 hours). Each step has a
**rollback task** that undoes it; they run in reverse order (`undo_config` → `undo_data` → `undo_schema`).

| option | what happens |
|---|---|
| Approve | `finalize_release`; no rollback task runs |
| Reject | **rollback on rejection**: every applied step is undone |
| Partial rollback | only the steps ticked in the form's `undo_steps` are undone; the others are kept |

Nobody answering within 6 hours counts as *Reject*: an unreviewed release does not stay.

## Partial rollback
A rollback is partial in two ways, and `plan_rollback` handles both: the reviewer may keep some steps
(*Partial rollback*), and a release may not have applied every step (conf `steps`, e.g. a release without a
config change) — a step that was never applied has nothing to undo, so its rollback task reports and skips
the work.

## Rollback status
`track_rollback` runs whatever happened, including when a rollback task fails, and reports the status with
`airgate.rollback_status`: overall `not_needed`, `complete`, `partial` or `failed`, and per step
`not_applied`, `kept`, `rolled_back` or `rollback_failed`. It is also counted in Airflow's metrics as
`airgate.rollback.<status>`.

Policy `rollback-rejection`: one release manager decides; a rejection needs a reason.

## Try it
Trigger `120_05_05_rollback_rejection` as alice; as bob open **Approvals** and choose *Partial rollback* with
`undo_steps` = `["config"]`. `undo_config` rolls back, `undo_data` and `undo_schema` keep their steps, and
`track_rollback` reports `partial`.
"""

STEPS = ["schema", "data", "config"]


@dag(
    dag_id="120_05_05_rollback_rejection",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
    params={
        "steps": Param(
            STEPS,
            type="array",
            items={"type": "string", "enum": STEPS},
            description="The steps this release applies",
        )
    },
)
def rollback_rejection() -> None:
    @task
    def apply_step(step: str, params: dict[str, Any]) -> dict[str, Any]:
        return {"step": step, "applied": step in params["steps"]}

    review_release = AirgateBranchOperator(
        task_id="review_release",
        subject="Keep release {{ dag_run.run_id }}?",
        body="Applied: {{ ti.xcom_pull(task_ids=['apply_schema', 'apply_data', 'apply_config']) }}",
        options=["Approve", "Reject", "Partial rollback"],
        options_mapping={
            "Approve": "finalize_release",
            "Reject": "plan_rollback",
            "Partial rollback": "plan_rollback",
        },
        params={
            "undo_steps": Param(
                STEPS,
                type="array",
                items={"type": "string", "enum": STEPS},
                uniqueItems=True,
                description="Partial rollback only: the steps to undo",
            )
        },
        response_timeout=timedelta(hours=6),
        defaults="Reject",
    )

    @task
    def finalize_release() -> str:
        return "release kept"

    @task
    def plan_rollback(decision: dict[str, Any], applied: list[dict[str, Any]]) -> dict[str, list[str]]:
        partial = decision["chosen_options"] == ["Partial rollback"]
        requested = decision["params_input"]["undo_steps"] if partial else STEPS
        done = {result["step"] for result in applied if result["applied"]}
        return {
            "requested": requested,
            "to_undo": [step for step in STEPS if step in requested and step in done],
        }

    @task
    def undo_step(step: str, plan: dict[str, list[str]]) -> dict[str, Any]:
        # Real rollbacks restore from what apply_<step> recorded; here the step just reports.
        return {"step": step, "rolled_back": step in plan["to_undo"]}

    @task(trigger_rule="all_done")
    def track_rollback(**context: Any) -> RollbackStatus:
        ti = context["ti"]
        applied = ti.xcom_pull(task_ids=[f"apply_{step}" for step in STEPS])
        plan = ti.xcom_pull(task_ids="plan_rollback")
        undone = ti.xcom_pull(task_ids=[f"undo_{step}" for step in STEPS])
        return rollback_status(
            STEPS,
            applied=[r["step"] for r in applied if r and r["applied"]],
            requested=plan["requested"] if plan else [],
            rolled_back=[r["step"] for r in undone if r and r["rolled_back"]],
        )

    applied = [apply_step.override(task_id=f"apply_{step}")(step) for step in STEPS]
    chain(*applied, review_release)

    finalized = finalize_release()
    plan = plan_rollback(review_release.output, applied)
    # Undo in reverse order: config before the data that it points at, data before its schema.
    undos = [undo_step.override(task_id=f"undo_{step}")(step, plan) for step in reversed(STEPS)]
    chain(*undos)
    review_release >> [finalized, plan]
    [finalized, undos[-1]] >> track_rollback()


rollback_rejection()
