"""120_08_02_integration_testing's flow with airgate.testing: the persistence check passes when Airflow and the
bridge agree and fails the run when they do not."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, reject, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_08_02_integration_testing"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_approval_exports_and_both_sides_agree(dag: Any, dag_test: Any, airgate_bridge: Any) -> None:
    result = dag_test(dag, {"approve_export": approve(by="bob", channel="email")})

    assert result.state == "success"
    assert result.tasks == {"approve_export": "success", "export": "success", "check_persistence": "success"}
    assert result.xcom("check_persistence") == {
        "airflow_option": "Approve",
        "bridge_option": "Approve",
        "bridge_state": "approved",
        "deciders": ["bob"],
    }
    assert airgate_bridge.registration("approve_export")["options"] == ["Approve", "Reject"]


def test_rejection_skips_the_export_and_is_persisted(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_export": reject(by="carol", reason="wrong period")})

    assert result.tasks["export"] == "skipped"
    assert result.tasks["check_persistence"] == "success"
    assert result.xcom("check_persistence")["bridge_state"] == "rejected"


def test_a_bridge_that_never_decided_fails_the_check(dag: Any, dag_test: Any) -> None:
    # Airflow's own timeout answered Reject while the bridge still shows the approval pending.
    result = dag_test(dag, {"approve_export": timeout()})

    assert result.tasks["check_persistence"] == "failed"
    assert result.state == "failed"
