"""SLA-driven escalation: a decision SLA with a warning before it, escalation when it is breached, and compliance measured."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, approval_status, escalations_of, sla_outcome

DOC = """
# SLA-driven escalation

The payment run must be decided within its **SLA**. A breach does not reject the payments, nor approve them:
it hands the request to someone who can decide now, and it is counted. All of it is policy
`sla-escalation` in `bridge/examples/reference-dags.policies.yaml`, demo-sized:

| after the request | policy | what the bridge does |
|---|---|---|
| 0 s | `levels` | bob (accounts payable) is asked |
| 10 s | `sla.warn_before: 10s` | **SLA warning** to bob: 10 s left (message kind `sla_warning`) |
| 20 s | `deadline: {after: 20s, action: escalate}` | **breach**: bob and alice are told (`sla_breach`), and the level is escalated to alice's manager, carol, who may decide |
| 5 min | `response_timeout` | Airflow takes `defaults` (*Reject*): the last word, should nobody decide at all |

## Compliance metrics
- The bridge counts, per DAG, approvals met and breached, how many were warned and escalated, and the share
  met: `GET /api/v1/stats` → `sla_by_dag` (`met`, `breached`, `warned`, `escalated`, `compliance`); the
  dashboard shows it.
- The run measures its own approval: `record_sla` (`airgate.sla_outcome`) compares the decision with the
  deadline the bridge reported (`due_at`), keeps `sla` (met/breached) and the margin in seconds as its
  XCom, and counts it in Airflow's metrics (`airgate.sla.approve_payment_run.met|breached`), beside the
  escalation chain.

## Try it
Trigger `120_06_05_sla_escalation` as alice. Approve as bob within 10 s: met. Or wait: bob is warned at 10 s
(**Messages**), at 20 s carol is added; approve as carol, and the dashboard's SLA figures count a breach.
"""


@dag(
    dag_id="120_06_05_sla_escalation",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
)
def sla_escalation() -> None:
    @task
    def prepare_payment_run() -> dict[str, Any]:
        invoices = [{"invoice": f"INV-{n:03}", "eur": 250 * n} for n in range(1, 9)]
        return {"invoices": len(invoices), "total_eur": sum(i["eur"] for i in invoices)}

    approve_payment_run = AirgateApprovalOperator(
        task_id="approve_payment_run",
        subject="Pay {{ ti.xcom_pull(task_ids='prepare_payment_run')['invoices'] }} invoices, "
        "{{ ti.xcom_pull(task_ids='prepare_payment_run')['total_eur'] }} EUR?",
        body="SLA 20 s: warned at 10 s, escalated to the requester's manager at 20 s (policy `sla-escalation`).",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def pay_invoices(run: dict[str, Any]) -> str:
        return f"paid {run['invoices']} invoices, {run['total_eur']} EUR"

    @task(trigger_rule="all_done")
    def record_sla(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        status = approval_status(ti.dag_id, ti.run_id, "approve_payment_run")
        return {
            "sla": sla_outcome("approve_payment_run", status),
            "escalations": escalations_of(ti, "approve_payment_run"),
        }

    run = prepare_payment_run()
    # The record runs on every outcome: a rejection skips only pay_invoices, the task right after the gate.
    run >> approve_payment_run >> pay_invoices(run) >> record_sla()


sla_escalation()
