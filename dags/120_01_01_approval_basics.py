"""Manual approval basics: a pipeline that stops for a person before it loads production."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator

DOC = """
# Manual approval basics

**Human in the loop** means a pipeline reaches a point where software alone must not decide: it pauses,
asks a person, and continues on their answer. This DAG is the smallest useful example: it prepares a
data-quality report, asks for approval to load it into production, and loads only when approved.

## When to ask a person
- data-quality review before a production load (this DAG);
- deployment gates, model promotion, payments above a limit, deletions, anything costly to undo.

## The approval task pattern
`AirgateApprovalOperator` (from the `airgate` package) is Airflow's native `ApprovalOperator`:
1. it writes a HITL request (subject, Markdown body, options *Approve* / *Reject*);
2. the task waits in the `awaiting_input` state, holding **no worker slot, no pool slot, no triggerer**;
3. the airgate bridge lists the request, decides who may answer, collects the vote and answers
   Airflow as its service account, writing a task note that names the person and their reason;
4. *Approve* continues; *Reject* skips the direct downstream tasks and the run still succeeds.
   `response_timeout` bounds the wait; at the timeout Airflow takes `defaults` (here *Reject*).

## Approval mechanisms compared
| mechanism | waits by | who may answer | audit |
|---|---|---|---|
| native HITL + airgate (this DAG) | `awaiting_input`, no slot | the bridge's policies | bridge trail + task note |
| sensor on an external signal (120.2.x) | poke/reschedule | whoever writes the signal | what the signal carries |
| callback to Airflow's API (120.3.x) | deferral or HITL | the caller's token | Airflow's audit log |
| manual UI actions (120.4.x) | nothing: a person acts | Airflow roles | Airflow's audit log |

## Try it
Trigger `120_01_01_approval_basics`, open **Approvals** in Airflow's navigation, and approve or reject
with a reason. The run continues within seconds; the `approve_load` task note names you.
"""


@dag(
    dag_id="120_01_01_approval_basics",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "beginner", "success"],
)
def approval_basics() -> None:
    @task
    def prepare_report() -> dict[str, int]:
        return {"rows": 1200, "rejected_rows": 3}

    approve_load = AirgateApprovalOperator(
        task_id="approve_load",
        subject="Load {{ dag_run.run_id }} into production?",
        body=(
            "Data-quality report for run `{{ dag_run.run_id }}`:\n\n"
            "{{ ti.xcom_pull(task_ids='prepare_report') }}"
        ),
        response_timeout=timedelta(hours=24),
        defaults="Reject",
    )

    @task
    def load_to_production(report: dict[str, int]) -> int:
        return report["rows"] - report["rejected_rows"]

    report = prepare_report()
    report >> approve_load >> load_to_production(report)


approval_basics()
