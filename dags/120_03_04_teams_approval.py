"""Teams approval: an Adaptive Card in Microsoft Teams carries the decision buttons; each chat decision is tracked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator

DOC = """
# Microsoft Teams approval

For teams that work in Microsoft Teams, policy `teams-approval` routes the request there (channels file:
`policies.teams-approval: {channels: [teams], fallback: email}`); the DAG only asks (`approve_access`).

## Integrating with Teams
Each approver's `people.NAME.teams` in the channels file is a Teams **Workflows** (or incoming-webhook) URL
that posts into their chat or channel. No Teams app, bot registration or inbound firewall hole is needed:
the bridge only sends, and decisions come back through the bridge's public links.

## The Adaptive Card
The bridge posts an **Adaptive Card** (`application/vnd.microsoft.card.adaptive`, version 1.4): the subject,
the request text, and one **`Action.OpenUrl` button per option**. Each button is a one-click link signed
for that approver, that option and channel `teams` — single-use and expiring with the request, like the
email links (120.3.3).

## Handling the response
Clicking a button opens the bridge's confirmation page; confirming (`POST` on the link) casts the vote as
the approver the card was sent to. The policy is applied as for any vote; when it decides, the bridge
answers the HITL task and `grant_access` (or nothing, on *Reject*) runs.

## Tracking chat-based approvals
- every card sent is a delivery (`GET /api/v1/deliveries?channel=teams`): attempts, errors, and the
  fallback email when Teams does not take it;
- the vote is recorded with `channel: teams` (`GET /api/v1/approvals/{id}`), in the audit trail and in the
  task note (`Approve by bob via teams`);
- `track_decision` keeps the decision, with the option and time, in this run's XCom.

## Try it
Create a Workflow "Post to a chat when a webhook request is received" in Teams, put its URL on your airgate
person, trigger `120_03_04_teams_approval` as alice and press *Approve* on the card.
"""


@dag(
    dag_id="120_03_04_teams_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def teams_approval() -> None:
    @task
    def access_request() -> dict[str, str]:
        return {"user": "dana", "role": "warehouse-admin", "until": "Friday"}

    approve_access = AirgateApprovalOperator(
        task_id="approve_access",
        subject="Grant {{ ti.xcom_pull(task_ids='access_request')['role'] }} to "
        "{{ ti.xcom_pull(task_ids='access_request')['user'] }}?",
        body="Temporary access until {{ ti.xcom_pull(task_ids='access_request')['until'] }}.",
        response_timeout=timedelta(hours=8),
        defaults="Reject",
    )

    @task
    def grant_access(request: dict[str, str]) -> str:
        return f"granted {request['role']} to {request['user']} until {request['until']}"

    @task(trigger_rule="all_done")
    def track_decision(**context: Any) -> dict[str, Any]:
        decision = context["ti"].xcom_pull(task_ids="approve_access")
        return {"option": decision["chosen_options"][0], "at": str(decision["responded_at"])}

    request = access_request()
    request >> approve_access >> grant_access(request) >> track_decision()


teams_approval()
