"""Custom approval service: the bridge is the approval microservice — its API, its rules, its UI inside Airflow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

DOC = """
# Custom approval service

When Airflow's built-in approval is not enough — several levels, rules over the request's data, many
channels, an audit trail — the logic goes into a service of its own. The airgate **bridge** is that
service; this DAG uses it for payments.

## The approval microservice
The bridge (`bridge/`, Express + TypeScript, its own store) owns approvals end to end: registration
(`POST /api/v1/approvals`, service token), listing and reading (`GET /api/v1/approvals[/{id}]`), voting
(`POST /api/v1/approvals/{id}/votes`), the audit trail (`GET /api/v1/audit`), channels, timers and metrics.
Its contract is `bridge/openapi.json`, browsable at `/api/v1/docs/`; any client that holds an Airflow
login's token may use it.

## Integration with Airflow's API
`approve_payment` is a native HITL task: the request is written into Airflow and announced to the bridge,
which also reconciles with `GET /api/v2/dags/~/dagRuns/~/hitlDetails`. When the policy is satisfied, the bridge
answers through Airflow's REST API (`PATCH .../hitlDetails` as its service account, the only assigned
user, so Airflow's own form cannot bypass the rules) and writes the task note naming the deciders.

## Complex approval logic
Chosen by the request's data, not by DAG code (`bridge/examples/reference-dags.policies.yaml`, first match wins):
- `custom-payment-large` — `when: amount >= 10000`: **two sequential levels**, first one finance approver,
  then the controllers `carol` **and** `admin` (unanimous); a rejection at any level ends it, and
  needs a reason;
- `custom-payment` — everything else: one finance approver.
In both, the person who triggered the run may not approve it. `GET /api/v1/approvals/{id}` shows the open
level and its tally as `progress`.

## Custom approval UIs
The bridge's UI is the airgate plugin inside Airflow: **Approvals** in the navigation and the **Approval**
tab on the task, with the Markdown body, votes, progress per level and the audit timeline — or any UI of
your own on the same API.

## Try it
Trigger `120_03_05_custom_approval` with conf `{"amount": 25000}` as alice; approve as bob (level 1), then
as carol and admin (level 2), watching the progress in the Approval tab. With `{"amount": 900}` bob alone
decides.
"""


@dag(
    dag_id="120_03_05_custom_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
    params={"amount": Param(900, type="integer", minimum=1, description="Payment amount in EUR")},
)
def custom_approval() -> None:
    @task
    def prepare_payment(params: dict[str, Any]) -> dict[str, Any]:
        return {"payee": "Northwind Ltd", "amount": params["amount"]}

    approve_payment = AirgateApprovalOperator(
        task_id="approve_payment",
        subject="Pay {{ params.amount }} EUR to {{ ti.xcom_pull(task_ids='prepare_payment')['payee'] }}?",
        body="Payments of 10 000 EUR or more need a finance approver and both controllers.",
        response_timeout=timedelta(days=2),
        defaults="Reject",
    )

    @task
    def execute_payment(payment: dict[str, Any]) -> str:
        return f"paid {payment['amount']} EUR to {payment['payee']}"

    @task(trigger_rule="all_done")
    def record_decision(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "approve_payment")

    payment = prepare_payment()
    payment >> approve_payment >> execute_payment(payment) >> record_decision()


custom_approval()
