"""Conditional approval branching: the change's type decides whether people are asked; their answer picks the path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task
from airflow.sdk.observability.stats import Stats

from airgate import AirgateBranchOperator

DOC = """
# Conditional approval branching

Not every change needs the same approval, and "no" is not the only alternative to "yes".

**By approval type.** `classify_change` branches on the run's `change_type` (conf):
*standard* changes are pre-approved (ITIL-style) and go straight to `auto_approve`; *normal* changes go to
`decide`, where people choose.

**Approve / reject / defer.** `decide` is an `AirgateBranchOperator` whose three options each lead somewhere:

| option | task | what it does |
|---|---|---|
| Approve | `deploy` | deploys, then `verify_deploy` checks it |
| Reject | `close_change` | closes the change with the decision |
| Defer | `reschedule_change` | keeps the change and proposes the next window |

An unanswered request is deferred after 24 hours (`defaults`), never silently approved.

**Conditional downstream.** `deploy` runs after an approval *or* a pre-approval (`none_failed_min_one_success`),
and `verify_deploy` only when a deploy happened; the other paths are skipped, and the run succeeds on each.

**Tracking branch outcomes.** `track_outcome` records which path the run took (and whether the timeout
chose it) and counts it in Airflow's metrics (`airgate.branch.120_05_03.<outcome>`); who chose it and why
is in the `decide` task note and the bridge's audit trail.

Policy `conditional-branching`: one release manager decides; a rejection needs a reason.

## Try it
Trigger `120_05_03_conditional_branching` with conf `{"change_type": "normal"}` and, as bob, choose
*Approve*, *Reject* (with a reason) or *Defer* in **Approvals**. With `{"change_type": "standard"}` nobody
is asked.
"""


@dag(
    dag_id="120_05_03_conditional_branching",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
    params={"change_type": Param("normal", type="string", enum=["standard", "normal"])},
)
def conditional_branching() -> None:
    @task.branch
    def classify_change(params: dict[str, Any]) -> str:
        return "auto_approve" if params["change_type"] == "standard" else "decide"

    @task
    def auto_approve() -> str:
        return "standard change: pre-approved"

    decide = AirgateBranchOperator(
        task_id="decide",
        subject="Deploy change {{ dag_run.run_id }}?",
        body="A **normal** change: approve to deploy now, reject to close it, defer to the next window.",
        options=["Approve", "Reject", "Defer"],
        options_mapping={"Approve": "deploy", "Reject": "close_change", "Defer": "reschedule_change"},
        response_timeout=timedelta(hours=24),
        defaults="Defer",
    )

    @task(trigger_rule="none_failed_min_one_success")
    def deploy() -> str:
        return "deployed"

    @task
    def verify_deploy() -> str:
        return "healthy"

    @task
    def close_change(decision: dict[str, Any]) -> str:
        return f"closed: rejected at {decision['responded_at']:%Y-%m-%d %H:%M} UTC"

    @task
    def reschedule_change(decision: dict[str, Any]) -> str:
        return f"deferred to {(decision['responded_at'] + timedelta(days=7)).date()}"

    @task(trigger_rule="none_failed_min_one_success")
    def track_outcome(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        decision = ti.xcom_pull(task_ids="decide")
        outcome = decision["chosen_options"][0].lower() if decision else "pre_approved"
        Stats.incr(f"airgate.branch.120_05_03.{outcome}")
        return {"outcome": outcome, "timed_out": bool(decision) and decision["responded_by_user"] is None}

    auto = auto_approve()
    deployed = deploy()
    verified = verify_deploy()
    classify_change() >> [auto, decide]
    [auto, decide] >> deployed >> verified
    paths = [close_change(decide.output), reschedule_change(decide.output)]
    [verified, *paths] >> track_outcome()


conditional_branching()
