"""Approval timeout handling: reminders, escalation, a deadline that rejects, and Airflow's timeout as the last word."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

DOC = """
# Approval timeout handling

People go on holiday, mail gets buried. An approval that nobody answers must neither block the pipeline
forever nor be approved by silence. The timers belong to the bridge (policy `approval-timeout` in
`bridge/examples/reference-dags.policies.yaml`), so changing them never touches DAG code; demo-sized durations here:

| after the request | what happens | where to see it |
|---|---|---|
| every 20 s | **reminder** to the approvers who have not voted | `GET /api/v1/messages?approval_id=...` (kind `reminder`), their inbox |
| 30 s | **escalation**: the requester's manager joins the approvers and is told | `GET /api/v1/approvals/{id}/escalations`, the Approval tab |
| 45 s | **SLA warning** to the approvers (`sla.warn_before: 15s`) | the messages (kind `sla_warning`) |
| 60 s | **deadline**: the bridge answers *Reject* (`deadline.action: reject`) — auto-rejection | approval state `expired`, task note `deadline: answered Reject` |
| 10 min | Airflow's own `response_timeout` takes `defaults` (*Reject*) | the last word, should the bridge be down |

The deadline's other actions are `approve`, `{option: NAME}`, `fail` (the task fails) and `escalate` (hand
the level up the manager chain and let Airflow's timeout decide). Every timer is a row in the bridge's store,
claimed with a lease, so a restarted bridge loses none and two replicas never remind twice.

## The DAG
`approve_spend` (`AirgateApprovalOperator`) waits in `awaiting_input`; `commit_spend` runs on approval.
`report_outcome` runs on every outcome and keeps the decision record (`airgate.decision_record_of`): a
person's decision has `state` approved/rejected and names them in `deciders`; the deadline's rejection has
`state: expired` and no deciders; Airflow's own timeout shows as `answered_by: null`.

## Try it
Trigger `120_01_05_approval_timeout` as alice and wait: bob is reminded every 20 s (see **Messages**),
carol (alice's manager) is added after 30 s and may approve; after 60 s the request is rejected on its own.
"""


@dag(
    dag_id="120_01_05_approval_timeout",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def approval_timeout() -> None:
    @task
    def plan_spend() -> dict[str, Any]:
        return {"vendor": "cloud-gpu", "amount_eur": 4800}

    approve_spend = AirgateApprovalOperator(
        task_id="approve_spend",
        subject="Approve {{ ti.xcom_pull(task_ids='plan_spend')['amount_eur'] }} EUR for "
        "{{ ti.xcom_pull(task_ids='plan_spend')['vendor'] }}?",
        body="Unanswered requests are rejected after 60 seconds (policy `approval-timeout`).",
        # Longer than the policy's deadline: the bridge decides first, Airflow only if the bridge cannot.
        response_timeout=timedelta(minutes=10),
        defaults="Reject",
    )

    @task
    def commit_spend(plan: dict[str, Any]) -> str:
        return f"committed {plan['amount_eur']} EUR to {plan['vendor']}"

    @task(trigger_rule="all_done")
    def report_outcome(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "approve_spend")

    plan = plan_spend()
    plan >> approve_spend >> commit_spend(plan) >> report_outcome()


approval_timeout()
