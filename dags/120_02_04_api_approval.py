"""API-based approval sensor: poll the bridge's approval status API, authenticated with its service token."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import ApprovalSignal, ApprovalStatusSensor, RequestApprovalOperator

DOC = """
# API-based approval sensor

An approval service with an API can be polled like any other. `request_approval` registers an external
approval with the airgate bridge; `poll_approval_api` then asks the bridge's status API until people decide:

`GET /api/v1/signals/approvals?dag_id=…&run_id=…&task_id=request_approval`

## Authentication
The call carries `Authorization: Bearer <service token>`, the password of the Airflow connection
`airgate_bridge` (its host is the bridge's URL): a credential that lives in Airflow's connections (or a
secrets backend), never in DAG code. The endpoint is read-only and answers only that token, not people's.

## The HTTP sensor
`airgate.ApprovalStatusSensor` is Airflow's `HttpSensor` (http provider): the endpoint with the
run's ids as query parameters, the bearer header rendered from the connection, and a `response_check` on
the parsed JSON (`404` means "not registered yet"); `mode="reschedule"`, `poke_interval=10s`, `timeout=1h`;
a refusal or the timeout skips it (`soft_fail`).

## Parsing the response
The answer is the approval's signal: `state` (pending, approved, rejected, expired, cancelled), the chosen
`option`, the form's `params_input`, `decided_at`, and `deciders` (user, option, reason, channel, time).
The sensor returns the answer it saw as its XCom, so `parse_approval` reads that instead of asking the bridge
again, and turns it into what `publish` needs; a rejection skips both.

## Try it
Trigger `120_02_04_api_approval` as alice and approve as bob in **Approvals**: `parse_approval` returns
bob's name, channel and the decision time. Try the API yourself with the bridge's service token.
"""


@dag(
    dag_id="120_02_04_api_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def api_approval() -> None:
    request = RequestApprovalOperator(
        task_id="request_approval",
        subject="Publish the pricing feed of {{ dag_run.run_id }}?",
        body="The sensor polls the bridge's approval API for this decision.",
    )

    poll = ApprovalStatusSensor(
        task_id="poll_approval_api",
        request_task_id="request_approval",
        poke_interval=10,
        timeout=timedelta(hours=1).total_seconds(),
        mode="reschedule",
    )

    @task
    def parse_approval(status: ApprovalSignal) -> dict[str, Any]:
        decider = status["deciders"][-1]
        return {
            "approval_id": status["approval_id"],
            "option": status["option"],
            "approved_by": decider["user"],
            "channel": decider["channel"],
            "decided_at": status["decided_at"],
        }

    @task
    def publish(approval: dict[str, Any]) -> str:
        return f"published; approved by {approval['approved_by']} via {approval['channel']}"

    # The sensor's XCom is the decision it saw: no second call to the bridge.
    approval = parse_approval(poll.output)
    request >> poll >> approval
    publish(approval)


api_approval()
