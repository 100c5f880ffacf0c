"""Slack approval: the request arrives as a Slack message with buttons; a click decides and the DAG goes on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateBranchOperator

DOC = """
# Slack approval integration

People who live in Slack should be able to approve there. With airgate the DAG does not talk to Slack at
all: it asks (`approve_deploy`), and the bridge's policy `slack-approval` routes the request to Slack
(channels file: `policies.slack-approval: {channels: [slack], fallback: email}`).

## Sending the request
The bridge's Slack app DMs each approver (their `people.NAME.slack` id) a Block Kit message: the subject, the
Markdown body and **one button per option**. Each send is a delivery, retried with backoff; one Slack
refuses or cannot take goes to the fallback channel (email here) and shows in `GET /api/v1/deliveries`.

## Interactive buttons and the response
Slack posts every click to the bridge's interactivity URL, `POST /channels/slack/interactions`:
1. the request must carry Slack's **v0 signature** (`HMAC_SHA256(signing secret, "v0:" + timestamp + ":" +
   body)`) and a timestamp within ±5 minutes — anything else is `401` and audited;
2. the Slack user is mapped to the Airflow user (`people.NAME.slack`, else their Slack profile email);
   unknown users cannot vote;
3. *Approve* votes at once; *Reject* opens a modal asking for the reason (policy: `reason: on_reject`),
   and submitting it votes;
4. the message is updated to show who decided, replacing the buttons.

## Updating the workflow
The vote is checked like any other and recorded with channel `slack`; once it decides, the bridge answers
the HITL task through Airflow's API. `approve_deploy` branches: `deploy` on *Approve*, `cancel_deploy` on
*Reject*, and the task note says `Approve by bob via slack`.

## Try it
Configure a Slack app (see `bridge/examples/channels.yaml`), put your Slack id on your airgate
person, trigger `120_03_02_slack_approval` as alice and click *Approve* in the DM.
"""


@dag(
    dag_id="120_03_02_slack_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def slack_approval() -> None:
    @task
    def build_release() -> dict[str, str]:
        return {"service": "search-api", "version": "7.1.3"}

    approve_deploy = AirgateBranchOperator(
        task_id="approve_deploy",
        subject="Deploy {{ ti.xcom_pull(task_ids='build_release')['service'] }} "
        "{{ ti.xcom_pull(task_ids='build_release')['version'] }} to production?",
        body="*Build* `{{ run_id }}` passed all checks.",
        options=["Approve", "Reject"],
        options_mapping={"Approve": "deploy", "Reject": "cancel_deploy"},
        response_timeout=timedelta(hours=4),
        defaults="Reject",
    )

    @task
    def deploy(release: dict[str, str]) -> str:
        return f"deployed {release['service']} {release['version']}"

    @task
    def cancel_deploy(decision: dict[str, Any]) -> str:
        return f"cancelled at {decision['responded_at']:%H:%M} UTC"

    release = build_release()
    release >> approve_deploy >> [deploy(release), cancel_deploy(approve_deploy.output)]


slack_approval()
