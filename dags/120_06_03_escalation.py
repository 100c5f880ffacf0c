"""Escalation on no response: a stalled approval is handed to secondary approvers, step by step, and the chain is kept."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, decision_record_of, escalations_of

DOC = """
# Escalation on no response

A request that nobody answers is **stalled**. Instead of waiting for its deadline, the bridge widens who may
decide: after each threshold without a decision it adds the next tier of approvers to the open level, tells
them, and records who it added and why. The thresholds are configuration (policy `escalation-no-response` in
`bridge/examples/reference-dags.policies.yaml`), demo-sized here:

| after the request | threshold | what the bridge does |
|---|---|---|
| 0 s | | bob, the primary approver, is asked (level `primary`) |
| 8 s | `escalation[0].after: 8s` | still undecided: the group `secondary-approvers` (carol) joins the level and is told |
| 16 s | `escalation[1].after: 16s` | still undecided: admin joins and is told |
| 30 s | `deadline.after: 30s` | the bridge answers *Reject*; Airflow's `response_timeout` (5 min) stays the last word |

## Detecting a stalled approval
Each threshold is a timer in the bridge's store, planned from the request's creation and fired by whichever
bridge replica claims it; it fires only while the approval is still pending, so a decision before 8 s
cancels the whole chain. Before their step, secondary approvers are refused (403): escalation, not a
second door.

## The escalation chain
`GET /api/v1/approvals/{id}/escalations` (the **Approval** tab shows it) lists every step: level, step,
approver, reason (`escalation step 1: undecided 8s after the request`) and time. The run keeps its own copy:
`record_escalation_chain` reads it with the service token (`airgate.escalations_of`) beside the decision
record, and reports how long the request stalled before its first escalation.

## Try it
Trigger `120_06_03_escalation` as alice and wait: after 8 s carol sees the request in **Approvals** (and in
**Messages**, kind `escalation`) and may approve; let it run 30 s and it is rejected with the whole chain.
"""


@dag(
    dag_id="120_06_03_escalation",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def escalation() -> None:
    @task
    def plan_refund() -> dict[str, Any]:
        claims = [{"order": f"SO-{n}", "amount_eur": 40 + 17 * n} for n in range(1, 6)]
        return {
            "customer": "ACME GmbH",
            "orders": len(claims),
            "amount_eur": sum(c["amount_eur"] for c in claims),
        }

    approve_refund = AirgateApprovalOperator(
        task_id="approve_refund",
        subject="Refund {{ ti.xcom_pull(task_ids='plan_refund')['amount_eur'] }} EUR to "
        "{{ ti.xcom_pull(task_ids='plan_refund')['customer'] }}?",
        body="Unanswered, it escalates to the secondary approvers after 8 s and to admin after 16 s; "
        "rejected at 30 s (policy `escalation-no-response`).",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def issue_refund(plan: dict[str, Any]) -> str:
        return f"refunded {plan['amount_eur']} EUR over {plan['orders']} orders"

    @task(trigger_rule="all_done")
    def record_escalation_chain(**context: Any) -> dict[str, Any]:
        record = decision_record_of(context["ti"], "approve_refund")
        chain = escalations_of(context["ti"], "approve_refund")
        requested = record["requested_at"]
        stalled_s = (
            (datetime.fromisoformat(chain[0]["at"]) - datetime.fromisoformat(requested)).total_seconds()
            if chain and requested
            else None
        )
        return {"decision": record, "escalations": chain, "stalled_s_before_first_escalation": stalled_s}

    plan = plan_refund()
    # The record runs on every outcome: a rejection skips only issue_refund, the task right after the gate.
    plan >> approve_refund >> issue_refund(plan) >> record_escalation_chain()


escalation()
