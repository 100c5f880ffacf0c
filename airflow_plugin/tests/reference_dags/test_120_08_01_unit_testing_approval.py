"""
Unit tests of 120_08_01_unit_testing_approval's approval logic with airgate.testing: every outcome of the gate,
decided by a simulated response, run through dag.test() without people or a bridge. Copy this file as a start.
"""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate import DecisionRecord
from airgate.testing import approve, expire, reject, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_08_01_unit_testing_approval"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def record(
    state: str, option: str | None, voters: list[str], answered_by: str | None = "airgate"
) -> DecisionRecord:
    return DecisionRecord(
        task_id="approve_release",
        approval_id="a1",
        state=state,
        policy="unit-testing-approval",
        option=option,
        params_input={},
        requested_at=None,
        decided_at=None,
        answered_by=answered_by,
        deciders=[
            {"user": v, "option": option or "", "reason": None, "channel": "ui", "at": ""} for v in voters
        ],
        record_url=None,
        audit_url=None,
    )


@pytest.mark.parametrize(
    ("given", "step"),
    [
        (record("approved", "Approve", ["bob"]), "ship_release"),
        (record("rejected", "Reject", ["carol"]), "rework"),
        # The policy's deadline answered Reject: nobody decided, so it escalates instead of reworking.
        (record("expired", "Reject", []), "escalate_release"),
        # Airflow's response_timeout took the defaults: nobody answered at all.
        (record("pending", "Reject", [], answered_by=None), "escalate_release"),
    ],
    ids=["approved", "rejected", "deadline", "airflow-timeout"],
)
def test_route_maps_every_state_to_its_step(dag: Any, given: DecisionRecord, step: str) -> None:
    assert dag.get_task("route").python_callable(given) == step


def test_approval_ships_and_registers_the_request(dag: Any, dag_test: Any, airgate_bridge: Any) -> None:
    result = dag_test(dag, {"approve_release": approve(by="bob", reason="looks good")})

    assert result.state == "success"
    assert result.followed("route") == ["ship_release"]
    assert result.tasks["ship_release"] == "success"
    assert result.tasks["rework"] == result.tasks["escalate_release"] == "skipped"
    decision = result.xcom("record_decision")
    assert (decision["state"], decision["option"], decision["answered_by"]) == (
        "approved",
        "Approve",
        "airgate",
    )
    assert [d["user"] for d in decision["deciders"]] == ["bob"]
    sent = airgate_bridge.registration("approve_release")
    assert sent["subject"] == "Ship release 2.4.0?"
    assert sent["options"] == ["Approve", "Reject"]
    assert sent["requester"] == "dag_test"


def test_rejection_reworks_with_the_reviewers_reason(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_release": reject(by="carol", reason="changelog missing")})

    assert result.state == "success"
    assert result.followed("route") == ["rework"]
    assert result.xcom("rework") == "rework: changelog missing"
    assert result.tasks["ship_release"] == result.tasks["escalate_release"] == "skipped"


def test_timeout_escalates_and_the_escalation_decides(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_release": timeout(), "escalate_release": approve(by="carol")})

    decision = result.xcom("record_decision")
    assert (decision["option"], decision["answered_by"], decision["deciders"]) == ("Reject", None, [])
    assert result.followed("route") == ["escalate_release"]
    assert result.tasks["escalate_release"] == "success"
    assert result.tasks["ship_escalated"] == "success"
    assert result.tasks["ship_release"] == result.tasks["rework"] == "skipped"


def test_deadline_then_escalation_timeout_ships_nothing(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_release": expire("Reject"), "escalate_release": timeout()})

    assert result.xcom("record_decision")["state"] == "expired"
    assert result.tasks["escalate_release"] == "success"
    assert result.tasks["ship_escalated"] == "skipped"
    assert result.state == "success"
