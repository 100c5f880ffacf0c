"""Unit testing approval logic: a release gate whose every outcome is tested with airgate.testing, no bridge needed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, AirgateHITLOperator, DecisionRecord, decision_record_of

DOC = """
# Unit testing approval logic

A gate is only as good as what the DAG does with each outcome. This DAG keeps that logic in one plain task,
`route`, a function of the **decision record** (`airgate.decision_record_of`), so every transition can be
tested without people, without a bridge and without waiting:

| decision of `approve_release` | record | `route` | then |
|---|---|---|---|
| Approve (people) | `state: approved` | `ship` | `ship_release` |
| Reject (people, with a reason) | `state: rejected` | `rework` | `rework` returns the reviewer's reason |
| nobody, before the policy's deadline (20 s) | `state: expired` | `escalate` | `escalate_release` asks the release managers' manager |
| nobody, before Airflow's `response_timeout` | `answered_by: null` | `escalate` | the same escalation |

`escalate_release` (an `AirgateApprovalOperator`, policy `unit-testing-escalated`: carol) has its own
timeout; approved, `ship_escalated` ships; rejected or unanswered, nothing ships.

## The tests
`airflow_plugin/tests/reference_dags/test_120_08_01_unit_testing_approval.py` uses **`airgate.testing`**:
`approve(by=..., reason=..., params_input=...)`, `reject(...)`, `expire()` and `timeout()` are *mocked
approval responses*; the `dag_test` fixture runs `dag.test()` and answers each approval task with its decision
the moment it parks in `awaiting_input` — as Airflow's HITL API, or its timeout sweep, would — while a
simulated bridge records the registration and reports the deciders. The tests assert the state transitions
(task states and the `route` XCom), the escalation logic, the timeout handling, and the pure `route`
function on every record state. Copy the file to test your own DAG.

## Try it
`.venv/bin/pytest -q airflow_plugin/tests/reference_dags/test_120_08_01_unit_testing_approval.py`, or
trigger `120_08_01_unit_testing_approval` as alice and approve (bob), reject (carol, with a reason) or wait
20 s: the deadline expires it and carol is asked to approve the escalation.
"""

#: The steps ``route`` chooses between, one per outcome of the gate.
STEPS = ("ship_release", "rework", "escalate_release")


@dag(
    dag_id="120_08_01_unit_testing_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "testing", "intermediate", "success"],
)
def unit_testing_approval() -> None:
    @task
    def prepare_release() -> dict[str, Any]:
        return {"version": "2.4.0", "changes": 12}

    # No skipping here: every outcome reaches `route`, which is the logic under test.
    approve_release = AirgateHITLOperator(
        task_id="approve_release",
        subject="Ship release {{ ti.xcom_pull(task_ids='prepare_release')['version'] }}?",
        body="{{ ti.xcom_pull(task_ids='prepare_release')['changes'] }} changes. Policy deadline: 20 s.",
        options=["Approve", "Reject"],
        defaults=["Reject"],
        response_timeout=timedelta(minutes=5),
    )

    @task
    def record_decision(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "approve_release")

    @task.branch
    def route(record: DecisionRecord) -> str:
        """People approved: ship; people rejected: rework; nobody decided (deadline or timeout): escalate."""
        if record["deciders"] and record["state"] == "approved" and record["option"] == "Approve":
            return "ship_release"
        if record["deciders"] and record["state"] == "rejected":
            return "rework"
        return "escalate_release"

    @task
    def ship(plan: dict[str, Any]) -> str:
        return f"shipped {plan['version']}"

    @task
    def rework(record: DecisionRecord) -> str:
        reasons = [d["reason"] for d in record["deciders"] if d["reason"]]
        return f"rework: {'; '.join(reasons) or 'no reason given'}"

    escalate_release = AirgateApprovalOperator(
        task_id="escalate_release",
        subject="Escalated: nobody decided on release {{ ti.xcom_pull(task_ids='prepare_release')['version'] }}",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    plan = prepare_release()
    record = record_decision()
    plan >> approve_release >> record
    step = route(record)
    step >> [ship.override(task_id="ship_release")(plan), rework(record), escalate_release]
    escalate_release >> ship.override(task_id="ship_escalated")(plan)


unit_testing_approval()
