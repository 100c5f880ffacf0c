"""Confirmation dialogs: a destructive purge that runs only after a typed, reasoned confirmation that expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateBranchOperator

DOC = """
# UI confirmation dialogs

Destructive actions deserve a second look: say what will happen, ask for a reason, make the person confirm,
and let the question expire rather than linger. airgate does this in two places, both audited.

## In the DAG: confirm a purge
`plan_purge` lists the partitions of `staging.events_raw` older than 30 days; `confirm_purge` asks
(`AirgateBranchOperator`):
- **Purge** runs `purge_partitions`; the form asks to **type the table name**, the GitHub-style guard
  against confirming the wrong thing: the bridge refuses a different name with `422 form_invalid`, and
  `purge_partitions` refuses to delete anything if the name was left empty;
- **Decline** runs `keep_partitions`, nothing is deleted.
- **A reason is required** for either choice (policy `confirmation-dialogs`, `reason: always`): a vote
  without one is refused with `422 reason_required`; the reason is in the audit trail and the task note.
- **Timeout**: the confirmation expires after 30 minutes. There is deliberately no default option, so an
  unanswered purge is never taken: `confirm_purge` fails with `HITLTimeoutError`, nothing is deleted, and
  the failed run makes someone look.

## In the UI: confirm actions on Airflow
Every action in airgate's **Run actions** / **Task actions** tabs (mark success/failed, clear, mark run
failed, pause, trigger) is a two-step dialog, enforced by the bridge, not just the browser:
1. `POST /api/v1/actions` with a non-empty `reason` (missing → `400`) returns a confirmation `{token,
   effect, expires_at}`; `effect` is Airflow's own dry run in words (`clears 2 tasks: purge_partitions,
   report`).
2. `POST /api/v1/actions/confirm {"token"}` applies it as the person — within 2 minutes, once, and only by
   the person who prepared it (`410` when used or expired, `403` for anybody else).
3. The audit trail (`GET /api/v1/audit`, airgate's **Audit** page) holds `action.prepared` and
   `action.applied` (or `action.failed`) with the person, reason, effect and result, hash-chained.

## Try it
Trigger `120_04_04_confirmation_dialogs` as alice. As bob, in **Approvals**, choose *Purge* without a reason
(refused), with a wrong table name (refused), then correctly. Afterwards clear `purge_partitions` from the
**Task actions** tab and read the effect before confirming.
"""

TABLE = "staging.events_raw"


@dag(
    dag_id="120_04_04_confirmation_dialogs",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def confirmation_dialogs() -> None:
    @task
    def plan_purge() -> dict[str, Any]:
        return {"table": TABLE, "partitions": ["2024-04-01", "2024-04-02", "2024-04-03"], "rows": 3_400_000}

    confirm_purge = AirgateBranchOperator(
        task_id="confirm_purge",
        subject=f"Purge old partitions of {TABLE}?",
        body=(
            "**This deletes data for good.**\n\n"
            "Partitions: {{ ti.xcom_pull(task_ids='plan_purge')['partitions'] | join(', ') }} "
            "({{ ti.xcom_pull(task_ids='plan_purge')['rows'] }} rows)"
        ),
        options=["Purge", "Decline"],
        options_mapping={"Purge": "purge_partitions", "Decline": "keep_partitions"},
        params={
            # Empty until someone types: a form default must be valid, or the task could not even start.
            "typed_table_name": Param(
                None,
                anyOf=[{"type": "null"}, {"const": TABLE}],
                description=f"Type {TABLE} to confirm the purge",
            )
        },
        response_timeout=timedelta(minutes=30),
    )

    @task
    def purge_partitions(plan: dict[str, Any], decision: dict[str, Any]) -> str:
        if decision["params_input"]["typed_table_name"] != plan["table"]:
            raise ValueError(f"Purge was chosen without typing {plan['table']}; nothing was deleted")
        return f"dropped {len(plan['partitions'])} partitions of {plan['table']}"

    @task
    def keep_partitions() -> str:
        return "nothing deleted"

    @task(trigger_rule="none_failed_min_one_success")
    def report(decision: dict[str, Any]) -> dict[str, Any]:
        return {"choice": decision["chosen_options"][0], "at": str(decision["responded_at"])}

    plan = plan_purge()
    (
        plan
        >> confirm_purge
        >> [purge_partitions(plan, confirm_purge.output), keep_partitions()]
        >> report(confirm_purge.output)
    )


confirmation_dialogs()
