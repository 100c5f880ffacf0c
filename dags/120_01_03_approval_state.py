"""Approval state management: the decision's record lives outside the run, and the run keeps the key to it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

DOC = """
# Approval state management

An approval must outlive the run that asked for it: auditors ask months later *who* approved *what*, *when*
and *why*. airgate keeps that state **outside Airflow**, in the bridge's store, and the run keeps the key.

## Where the state is stored
| what | where | written by |
|---|---|---|
| the approval: request, policy, state, votes (person, option, reason, channel, time), outcome | the bridge's store (SQLite or PostgreSQL): `GET /api/v1/approvals/{id}` | the bridge |
| every step: registration, each vote and refusal, level changes, the decision, Airflow's answer | the bridge's **audit trail**, hash-chained: `GET /api/v1/audit?approval_id={id}`, checked by `GET /api/v1/audit/verify` | the bridge |
| the answer Airflow acted on: option, form input, time | the HITL response and `approve_release`'s XCom | the bridge, through Airflow's API |
| who decided and why, for people reading the run | `approve_release`'s task note (`Approve by bob via ui: ...`) | the bridge |
| the record a run keeps: Airflow's answer joined with the bridge's deciders | `record_decision`'s XCom | `airgate.decision_record_of` |

## Approver identity and timestamp
The person is verified by the channel they voted through (their Airflow login, a signed email link, a Slack
signature) and recorded in the bridge with the time of their vote. Airflow itself records the bridge's service
account as the responder — the only account allowed to answer, so nobody bypasses the policy — and the time it
answered.

## Reading the record back
`record_decision` runs on every outcome and assembles the run's **decision record** with
`airgate.decision_record_of`: Airflow's answer (option, form input, when it was asked and answered, and by
which Airflow user: the service account, or nobody when Airflow's timeout chose) joined with the bridge's
status of the approval, read through the Airflow connection `airgate_bridge` (host = the bridge's URL,
password = its service token) from `GET /api/v1/signals/approvals?dag_id=&run_id=&task_id=`: the approval
id, its state and policy, and the **deciders** — each person with their option, reason, channel and the time
of their vote. The record links to the full record and the audit trail, which people read with their own
token (the Approval tab shows both); the service token reads status only, it cannot vote.

Policy `approval-state`: one release manager decides, not the person who triggered the run; a rejection
needs a reason, which the record keeps.

## Try it
Trigger `120_01_03_approval_state` as alice, approve as bob in **Approvals**, then read `record_decision`'s
XCom, open its `record_url` (signed in) or the task's **Approval** tab for the votes and the audit timeline.
"""


@dag(
    dag_id="120_01_03_approval_state",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "intermediate", "success"],
)
def approval_state() -> None:
    @task
    def prepare_release() -> dict[str, str]:
        return {"service": "pricing-api", "version": "5.2.0"}

    approve_release = AirgateApprovalOperator(
        task_id="approve_release",
        subject="Release {{ ti.xcom_pull(task_ids='prepare_release')['service'] }} "
        "{{ ti.xcom_pull(task_ids='prepare_release')['version'] }}?",
        body="The approval's record and audit trail are kept by the airgate bridge.",
        response_timeout=timedelta(hours=12),
        defaults="Reject",
    )

    @task
    def release(version: dict[str, str]) -> str:
        return f"released {version['service']} {version['version']}"

    @task(trigger_rule="all_done")
    def record_decision(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "approve_release")

    version = prepare_release()
    # After release, not after the gate: a rejection skips the gate's direct downstream tasks.
    version >> approve_release >> release(version) >> record_decision()


approval_state()
