"""Testing escalation paths: a change request that climbs two escalation steps, and the tests that prove each step."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

DOC = """
# Testing escalation paths

Escalation is configuration (policy `escalation-testing`), so test it where it runs, on the bridge, with
demo-sized timers:

| after | step | who is added and told |
|---|---|---|
| 0 s | level `owner` | bob |
| 6 s | escalation step 0 | `manager`: the requester's manager (alice → carol) |
| 12 s | escalation step 1 | `user:admin` |
| 40 s | deadline | the bridge answers *Reject* |

`approve_change` asks; `apply_change` runs on approval; `record_decision` keeps who decided (an escalated
approver is named like any other).

## The tests
- On the real stack (`test/integration/testing-workflows.test.ts`): **timeout escalation** (nobody votes;
  carol is added after step 0's delay, admin after step 1's), the **escalation chain** read back in order from
  `GET /api/v1/approvals/{id}/escalations`, **manager notification** (an `escalation` message to carol, then
  to admin, in the bridge's messages), **multi-level escalation** (admin, added at step 1, approves), and a refusal
  before the step that adds someone (admin votes before step 1 adds them: 403, nothing changes).
- With `airgate.testing`: the DAG's handling of an escalated approver's decision and of the deadline.

## Try it
Trigger `120_08_04_escalation_testing` as alice and watch the **Approval** tab's escalations grow; approve as
admin after 12 s.
"""


@dag(
    dag_id="120_08_04_escalation_testing",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "testing", "intermediate", "success"],
)
def escalation_testing() -> None:
    approve_change = AirgateApprovalOperator(
        task_id="approve_change",
        subject="Open firewall port 8443 for {{ dag_run.run_id }}?",
        body="Escalates to the requester's manager after 6 s, to admin after 12 s; rejected at 40 s.",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def apply_change() -> str:
        return "port 8443 opened"

    @task(trigger_rule="all_done")
    def record_decision(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "approve_change")

    approve_change >> apply_change() >> record_decision()


escalation_testing()
