"""Anti-pattern: an approval with no timeout, beside the fix: a deadline, reminders and an escalation path."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

DOC = """
# Anti-pattern: no approval timeout

## The failure
`unbounded_gate` asks bob with no `response_timeout`, and its policy (`no-timeout-antipattern`) has no
deadline, no reminder and no escalation. If bob never looks, the run never ends (**indefinite workflow
blocking**): its later tasks never run, the run counts against `max_active_runs` forever, and every
scheduler loop considers it again (**resource waste**). Nobody is reminded and nobody else is asked.

The guard: this demo caps the whole run with `dagrun_timeout=60s`, so the scheduler fails the run and skips
the parked task (`airflow/jobs/scheduler_job_runner.py:2855-2872`). Without it the wait is unbounded.
Measured in the scenario: **0 reminders, 0 escalations, 0 decisions** for the unbounded request, until the
guard ends the run `failed`.

## The fix, in the same run
`bounded_gate` has both layers of **timeout configuration**: the bridge's policy `no-timeout-fix` (remind
every 5 s, **escalation** to the requester's manager after 8 s, deadline 15 s answering *Reject*) and Airflow's
own `response_timeout` (5 min, `defaults="Reject"`) as the last word should the bridge be down.
Measured: reminded, escalated to carol, expired at the deadline; `report` records `state: expired`.

## Try it
Trigger `120_07_01_no_timeout_antipattern` as alice and wait a minute: **Messages** shows reminders and an
escalation for `bounded_gate` and nothing for `unbounded_gate`; the run ends `failed` by the guard.
"""


@dag(
    dag_id="120_07_01_no_timeout_antipattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "anti-pattern", "intermediate", "failure"],
    # The guard that bounds the anti-pattern in this demo; real DAGs need the per-approval timeouts below.
    dagrun_timeout=timedelta(seconds=60),
)
def no_timeout_antipattern() -> None:
    # ANTI-PATTERN: no response_timeout, and a policy without deadline, reminders or escalation.
    unbounded_gate = AirgateApprovalOperator(task_id="unbounded_gate", subject="Purge the staging tables?")

    # FIX: a policy deadline with reminders and escalation, and Airflow's timeout behind it.
    bounded_gate = AirgateApprovalOperator(
        task_id="bounded_gate",
        subject="Purge the staging tables?",
        body="Reminders every 5 s, escalation after 8 s, rejected at 15 s (policy `no-timeout-fix`).",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def purge(gate: str) -> str:
        return f"purged after {gate}"

    @task(trigger_rule="all_done")
    def report(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "bounded_gate")

    unbounded_gate >> purge.override(task_id="purge_unbounded")("unbounded_gate")
    bounded_gate >> purge.override(task_id="purge_bounded")("bounded_gate") >> report()


no_timeout_antipattern()
