"""120_08_04_escalation_testing with airgate.testing: what the DAG does with an escalated approver's decision and
with the deadline. The escalation steps themselves are the bridge's (its timers' tests, and this DAG's scenario)."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, expire

from conftest import DAGS_FOLDER

DAG_ID = "120_08_04_escalation_testing"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_an_escalated_approver_decides_like_any_other(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_change": approve(by="admin", reason="escalated to me")})

    assert result.tasks == {
        "approve_change": "success",
        "apply_change": "success",
        "record_decision": "success",
    }
    record = result.xcom("record_decision")
    assert [(d["user"], d["reason"]) for d in record["deciders"]] == [("admin", "escalated to me")]


def test_the_deadline_after_every_step_rejects(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_change": expire("Reject")})

    assert result.tasks["apply_change"] == "skipped"
    assert result.xcom("record_decision")["state"] == "expired"
    assert result.state == "success"
