"""Anti-pattern: approvers hard-coded in the DAG, next to the fix: approvers resolved from roles in a policy."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

DOC = """
# Anti-pattern: hard-coded approvers

## The failure
`hardcoded_gate` is Airflow's own `ApprovalOperator` with `assigned_users=[dave]` written into the DAG.
Dave approved releases when the DAG was written; he has since left (there is no `dave` in this Airflow).
What that costs, as the scenario measures it on the real stack:

- **Inflexible routing**: only dave may answer. bob, who owns releases now, gets Airflow's
  `403 ... is not a respondent for the task` when he tries (checked by
  `airflow/api_fastapi/core_api/routes/public/hitl.py:199-210`).
- **Personnel changes break the flow**: fixing it needs a code change and a deploy; meanwhile the
  request can only time out. Here Airflow's `response_timeout` is capped at 20 s (the guard that keeps the
  demo bounded — with none, the run would wait forever) and there are no `defaults`, so the task fails with
  `HITLTimeoutError` and `ship_hardcoded` never runs: **0 people could answer, the run fails**.
- **Nobody hears of it**: the request is not airgate's (the bridge answers only tasks assigned to its
  service account), so it reaches no inbox, no channel and no audit trail.

airgate refuses this shape outright: `AirgateApprovalOperator(assigned_users=...)` raises `ValueError`.

## The fix: dynamic, role-based approvers
`routed_gate` (`AirgateApprovalOperator`) names no one. The bridge resolves who may decide when someone
votes, from policy `hardcoded-approvers-fix` in the policies file: the `release-managers` group or any
Airflow `admin`. When people change, the group changes in one file (audited, applied within seconds, even to
approvals already waiting); no DAG changes. `report` keeps the decision record naming who decided.

## Try it
Trigger `120_07_04_hardcoded_approvers_antipattern` as alice. As bob, approve `routed_gate` in **Approvals**;
try `hardcoded_gate` in Airflow's Required Actions and get refused. After 20 s `hardcoded_gate` fails and the
run ends `failed`; `ship_routed` has run.
"""


@dag(
    dag_id="120_07_04_hardcoded_approvers_antipattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "anti-pattern", "beginner", "failure"],
)
def hardcoded_approvers_antipattern() -> None:
    # ANTI-PATTERN: a person's name in code. No defaults: an unanswered request fails the task.
    hardcoded_gate = ApprovalOperator(
        task_id="hardcoded_gate",
        subject="Ship release 3.1?",
        assigned_users=[{"id": "dave", "name": "dave"}],
        response_timeout=timedelta(seconds=20),
    )

    # FIX: no names; the bridge's policy resolves the approvers from roles and groups.
    routed_gate = AirgateApprovalOperator(
        task_id="routed_gate",
        subject="Ship release 3.1?",
        body="Approvers come from policy `hardcoded-approvers-fix`: release managers or an admin.",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def ship(gate: str) -> str:
        return f"shipped after {gate}"

    @task(trigger_rule="all_done")
    def report(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "routed_gate")

    hardcoded_gate >> ship.override(task_id="ship_hardcoded")("hardcoded_gate")
    routed_gate >> ship.override(task_id="ship_routed")("routed_gate") >> report()


hardcoded_approvers_antipattern()
