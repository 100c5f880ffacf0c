"""Email approval links: approvers decide from their inbox with one-click links that are signed, single-use and expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator

DOC = """
# Email approval links

Some approvers only ever see email. The bridge mails each of them the request with **one link per option**;
the DAG just asks (`approve_refund`) and policy `email-approval` decides who is asked (the finance approvers)
and until when (demo-sized: 60 seconds; days in real life).

## Secure approval tokens
Each link is `{AIRGATE_PUBLIC_URL}/a/{token}`, where the token is a JWT signed by the bridge
(`AIRGATE_LINK_SECRET`) that names **one approver, one approval and one option**, the channel (`email`), a
unique id and an expiry. Nothing in it can be changed without breaking the signature, and it grants nothing
but that one vote by that one person: the vote is still checked against the policy (eligibility,
self-approval, reason).

## Click to approve
`GET /a/{token}` only shows a confirmation page (with a reason box) and never changes anything, so mail
scanners that follow links cannot approve. The page's form `POST`s to the same link, which casts the vote as
the person the link is bound to (`channel: email` in the record, `Approve by bob via email` in the task note).

## Expiry
A link works **once** (the token id is spent; every link of that mail is then used up) and expires with the
approval's deadline (or after a week at most): afterwards the link answers `410` and the page says so. An
unanswered request is rejected at the deadline by the bridge, so `refund` never runs on silence.

## Try it
Configure email (`SMTP_URL`, channels file with your address), trigger `120_03_03_email_approval` as alice,
open the mail as bob and click *Approve*, then confirm. Click it again: the link is spent.
"""


@dag(
    dag_id="120_03_03_email_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def email_approval() -> None:
    @task
    def prepare_refund() -> dict[str, Any]:
        return {"customer": "ACME GmbH", "amount_eur": 1250}

    approve_refund = AirgateApprovalOperator(
        task_id="approve_refund",
        subject="Refund {{ ti.xcom_pull(task_ids='prepare_refund')['amount_eur'] }} EUR to "
        "{{ ti.xcom_pull(task_ids='prepare_refund')['customer'] }}?",
        body="Requested in run `{{ run_id }}`. The links in this mail work once and expire with the request.",
        response_timeout=timedelta(hours=1),
        defaults="Reject",
    )

    @task
    def refund(request: dict[str, Any]) -> str:
        return f"refunded {request['amount_eur']} EUR to {request['customer']}"

    request = prepare_refund()
    request >> approve_refund >> refund(request)


email_approval()
