"""Anti-pattern: a fire-and-forget notification nobody tracks, beside the fix: deliveries the bridge confirms and retries."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import timedelta
from typing import Any
from urllib.request import Request, urlopen

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

#: The chat webhook the DAG was written against, since retired. Here a closed port on loopback, so the demo
#: fails at once and reaches nobody, exactly as a retired webhook does.
RETIRED_CHAT_HOOK = "http://127.0.0.1:9/hooks/approvals"

DOC = f"""
# Anti-pattern: no notification delivery tracking

## The failure
`notify_by_hand` posts the request to a chat webhook written into the DAG (`{RETIRED_CHAT_HOOK}`, retired
since) and ignores what happens: the post is refused, the error is swallowed, the task is green and returns
`"notified"` (**undelivered notifications** that look delivered). `untracked_gate` (Airflow's own
`ApprovalOperator`) then waits for an answer from people who were never told (**silent approval request**):
nothing records that the message went nowhere, nothing retries it, nobody is reminded. The guard that keeps
the demo bounded is its `response_timeout` of 20 s with no `defaults`: the task fails and `ship_untracked` never
runs. Measured in the scenario: **1 post attempted, 0 delivered, 0 deliveries on record, 0 reminders, 0
answers**; the run ends `failed`.

## The fix, in the same run
`tracked_gate` (`AirgateApprovalOperator`, policy `no-tracking-fix`) leaves delivery to the bridge, which
records every message and each **delivery** per channel (`GET /api/v1/messages`, `GET /api/v1/deliveries`:
`queued`, `sent` or `failed`, attempts and last error; `airgate_deliveries{{state="failed"}}` on `/metrics`):
- **delivery confirmation**: a delivery is `sent` only once its channel accepted it (SMTP answered, Slack
  said ok);
- **retry notifications**: a failing channel is retried with backoff (`delivery` in the channels file) and then
  handed to the fallback channel; the policy's reminders (every 5 s here) ask again while nobody answers.

With the suite's channels file (`test/support/channels.yaml`: `no-tracking-fix` goes to Slack, which the suite
cannot reach, with email as fallback) the scenario measures: Slack **failed after 3 attempts** for bob, the
email fallback **sent**, reminders sent, and bob approves through the mailed link; `report` keeps the decision
record (bob, via email).

## Try it
Trigger `120_07_05_no_tracking_antipattern` as alice. `notify_by_hand` is green though nothing was sent;
**Messages** shows the tracked request and its reminders with each delivery's state (the dev stack without a
channels file delivers to the local messages store); approve `tracked_gate` as bob. After 20 s `untracked_gate` fails.
"""


@dag(
    dag_id="120_07_05_no_tracking_antipattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "anti-pattern", "intermediate", "failure"],
)
def no_tracking_antipattern() -> None:
    # ANTI-PATTERN: fire and forget. The error is swallowed; nothing records or retries the message.
    @task
    def notify_by_hand(**context: Any) -> str:
        message = {"text": f"Please approve the release of {context['run_id']} in Airflow."}
        with suppress(OSError):
            urlopen(
                Request(RETIRED_CHAT_HOOK, data=json.dumps(message).encode(), method="POST"),
                timeout=5,
            )
        return "notified"

    # No defaults: unanswered, the task fails at the timeout, the guard that keeps this demo bounded.
    untracked_gate = ApprovalOperator(
        task_id="untracked_gate",
        subject="Ship release 3.2?",
        response_timeout=timedelta(seconds=20),
    )

    # FIX: the bridge delivers, confirms, retries, falls back and reminds; every delivery is on record.
    tracked_gate = AirgateApprovalOperator(
        task_id="tracked_gate",
        subject="Ship release 3.2?",
        body="Delivered and tracked by the bridge; reminders every 5 s (policy `no-tracking-fix`).",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def ship(gate: str) -> str:
        return f"shipped after {gate}"

    @task(trigger_rule="all_done")
    def report(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "tracked_gate")

    (notify_by_hand() >> untracked_gate >> ship.override(task_id="ship_untracked")("untracked_gate"))
    tracked_gate >> ship.override(task_id="ship_tracked")("tracked_gate") >> report()


no_tracking_antipattern()
