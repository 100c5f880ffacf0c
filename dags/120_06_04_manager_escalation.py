"""Manager escalation: the requester's manager decides, and an unanswered request climbs the hierarchy, skipping absent managers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, decision_record_of, escalations_of

DOC = """
# Manager escalation

Some requests are for the requester's line manager to decide, and for theirs when the manager does not
answer. Nothing of the hierarchy is in this DAG: the bridge's policies file holds it, so a reorganisation is
an edit of one file, and it applies to requests already waiting.

## The approval hierarchy
`managers:` in `bridge/examples/reference-dags.policies.yaml`: dave → erin → bob → carol → admin, with erin
listed under `absent:` (on leave). Policy `manager-escalation` asks `manager`: the requester's nearest
available manager.

## Auto-escalation up the chain
Each escalation step that names `manager` climbs one rung above the manager the level already asks; the
thresholds are the policy's (demo-sized):

| after the request | who may decide (requester dave) | requester alice |
|---|---|---|
| 0 s | bob: erin is absent, so the level skips to her manager | carol |
| 8 s (`escalation[0]`) | + carol | + admin |
| 16 s (`escalation[1]`) | + admin | (top of the hierarchy: nobody more) |
| 40 s (`deadline`) | the bridge answers *Reject* | |

## Skip-level approvals
Two kinds, both handled by the bridge: an **absent** manager is skipped (erin is never asked, never told), and
a manager higher up may decide **without the ones below** once escalation reached them: admin approving
dave's request at 16 s is a skip-level approval, recorded like any other vote. The requester is always
skipped: nobody approves their own request by being someone's manager.

## Escalation policies
Thresholds, the hierarchy and who is absent are the policy file's (`escalation:`, `managers:`, `absent:`);
`record_chain` keeps the run's view: the decision record and the chain from
`GET /api/v1/signals/escalations` (the same as `GET /api/v1/approvals/{id}/escalations`).

## Try it
Sign in as dave and trigger `120_06_04_manager_escalation`: bob is asked; after 8 s carol, after 16 s admin
may approve. Triggered as alice, carol is asked first.
"""


@dag(
    dag_id="120_06_04_manager_escalation",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
)
def manager_escalation() -> None:
    @task
    def prepare_purchase(**context: Any) -> dict[str, Any]:
        lines = [{"item": f"laptop-{n}", "eur": 1150 + 40 * n} for n in range(3)]
        return {
            "requester": context["dag_run"].triggering_user_name,
            "total_eur": sum(li["eur"] for li in lines),
        }

    approve_purchase = AirgateApprovalOperator(
        task_id="approve_purchase",
        subject="Approve a {{ ti.xcom_pull(task_ids='prepare_purchase')['total_eur'] }} EUR purchase for "
        "{{ ti.xcom_pull(task_ids='prepare_purchase')['requester'] }}?",
        body="Your report asks. Unanswered, it goes up the manager chain every 8 s (policy `manager-escalation`).",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def place_order(purchase: dict[str, Any]) -> str:
        return f"ordered {purchase['total_eur']} EUR for {purchase['requester']}"

    @task(trigger_rule="all_done")
    def record_chain(**context: Any) -> dict[str, Any]:
        return {
            "decision": decision_record_of(context["ti"], "approve_purchase"),
            "escalations": escalations_of(context["ti"], "approve_purchase"),
        }

    purchase = prepare_purchase()
    # The record runs on every outcome: a rejection skips only place_order, the task right after the gate.
    purchase >> approve_purchase >> place_order(purchase) >> record_chain()


manager_escalation()
