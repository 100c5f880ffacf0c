"""Webhook approval callback: another system posts the decision to the bridge's signed webhook, and the task resumes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateApprovalOperator

DOC = """
# Webhook approval callback

Often the decision is made in another system — a change-management portal, a ticketing tool — and that
system should *call back* when it has one. airgate exposes the callback: **`POST /hooks/{source}`** on the
bridge. The DAG only asks (`approve_change`); the caller never needs Airflow credentials, and the bridge
still applies the policy, so a webhook cannot do what its user could not.

## The callback
```
POST {bridge}/hooks/ops
X-Airgate-Timestamp: 1767225600                     # unix seconds, within ±5 minutes
X-Airgate-Delivery: 7f6c...                          # the sender's id: a retry with it changes nothing
X-Airgate-Signature: sha256=HMAC_SHA256(secret, timestamp + "." + delivery id + "." + raw body)
{"approval_id": "...", "user": "carol", "option": "Approve", "reason": "CAB approved",
 "params_input": {"change_ticket": "CHG-4711"}}
```
The source `ops` and the users it may vouch for are in the bridge's channels file
(`webhooks.inbound.ops: {secret_env: AIRGATE_HOOK_OPS_SECRET, users: [...]}`); the secret stays in the
environment. The approval id comes from the request message the portal received (webhook channel, email,
or `GET /api/v1/approvals`).

## Securing and validating it
- **Signature** over the timestamp, delivery id and raw body with the source's secret, **timestamp** within
  ±5 minutes, **delivery id** once (it is signed, so a captured request re-sent under a new id fails): a bad signature or a stale timestamp is refused with `401` and audited (`hook.refused`); a replayed
  delivery gets the first answer again (`X-Airgate-Replay: true`).
- **Payload**: malformed JSON or unknown fields → `400`; a user the source may not vouch for → `403`;
  then the vote is checked like any other: policy (`webhook-callback`: one change manager, not the
  requester), required reason on rejection → `422`, and the form: `change_ticket` must look like
  `CHG-<number>` → `422 form_invalid` naming the field.

## Updating the task
An accepted callback is a vote; when it decides, the bridge answers the HITL request through Airflow's API
and writes the task note (`Approve by carol via webhook:ops: ...`). `approve_change` resumes and
`apply_change` runs with the ticket from the callback; on *Reject* it is skipped.

## Try it
`npm start` configures the source `ops` (`bridge/examples/dev.channels.yaml`, users bob and carol) with a
secret generated into `.airgate/dev/secrets.json` (`hook_ops_secret`). Trigger `120_03_01_webhook_callback`
as alice, copy the approval's id from **Approvals**, then post the callback as carol:
```sh
SECRET=$(python3 -c "import json;print(json.load(open('.airgate/dev/secrets.json'))['hook_ops_secret'])")
BODY='{"approval_id":"<id>","user":"carol","option":"Approve","reason":"CAB approved","params_input":{"change_ticket":"CHG-4711"}}'
TS=$(date +%s); ID=$(uuidgen)
SIG=$(printf '%s.%s.%s' "$TS" "$ID" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | cut -d' ' -f2)
curl -s http://127.0.0.1:8181/hooks/ops -H 'Content-Type: application/json' -H "X-Airgate-Timestamp: $TS" \
  -H "X-Airgate-Delivery: $ID" -H "X-Airgate-Signature: sha256=$SIG" -d "$BODY"
```
"""


@dag(
    dag_id="120_03_01_webhook_callback",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def webhook_callback() -> None:
    @task
    def plan_change() -> dict[str, str]:
        return {"system": "billing-db", "change": "add index on invoices(customer_id)"}

    approve_change = AirgateApprovalOperator(
        task_id="approve_change",
        subject="Change on {{ ti.xcom_pull(task_ids='plan_change')['system'] }}",
        body="{{ ti.xcom_pull(task_ids='plan_change')['change'] }}",
        params={
            # Empty until the caller sends it: a form default must be valid, or the task could not start.
            "change_ticket": Param(
                None,
                anyOf=[{"type": "null"}, {"type": "string", "pattern": "^CHG-[0-9]+$"}],
                description="The approved change ticket (CHG-<number>)",
            )
        },
        response_timeout=timedelta(hours=8),
        defaults="Reject",
    )

    @task
    def apply_change(plan: dict[str, str], decision: dict[str, Any]) -> dict[str, str]:
        ticket = decision["params_input"]["change_ticket"]
        if not ticket:
            raise ValueError("approved without a change ticket; nothing was applied")
        return {**plan, "ticket": ticket}

    plan = plan_change()
    plan >> approve_change
    apply_change(plan, approve_change.output)


webhook_callback()
