"""120_09_04_state_management with airgate.testing: the approval's state outside XCom, an orphan the bridge closes,
both sides compared, and the staged rows removed whatever the outcome. The bridge's own reconcile loop closing a
real orphan is this DAG's scenario in test/integration/state-and-monitoring.test.ts."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, reject, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_09_04_state_management"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_the_staging_is_the_runs_setup_and_its_cleanup_the_teardown(dag: Any) -> None:
    assert dag.get_task("stage_changes").is_setup
    assert dag.get_task("clean_up").is_teardown
    assert dag.get_task("approve_changes").retries == 1


def test_an_approval_on_the_first_ask_applies_the_batch_and_leaves_nothing_behind(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    result = dag_test(dag, {"approve_changes": approve(by="bob")}, run_conf={"changes": 50})

    assert result.state == "success"
    batch = result.xcom("stage_changes")
    assert batch["rows"] == 50 and len(batch["largest"]) == 3
    registration = airgate_bridge.registration("approve_changes")
    assert batch["digest"] in registration["subject"]
    assert batch["largest"][0] in registration["body"]
    assert result.xcom("apply_changes") == {"applied": 50, "digest": batch["digest"]}
    state = result.xcom("check_state")
    assert [a["state"] for a in state["approvals"]] == ["approved"]
    assert (state["orphans"], state["decision"]) == ([], "Approve")
    # The data stays in staging; the run keeps ids and the decision, far under the budget.
    assert max(state["xcom_bytes"].values()) <= 1024 < state["staged_bytes"]
    assert result.xcom("clean_up") == {"removed_rows": 50}
    assert result.xcom("verify_clean") == {"staged_rows_left": 0}


def test_an_unanswered_ask_leaves_an_orphan_the_bridge_cancels_and_a_rejection_still_cleans_up(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    decisions = {"approve_changes": [timeout(), reject(by="carol", reason="prices not final")]}
    result = dag_test(dag, decisions, run_conf={"changes": 120})

    assert result.state == "success"
    assert [r["try_number"] for r in airgate_bridge.registrations] == [1, 2]
    state = result.xcom("check_state")
    assert [(a["try_number"], a["state"]) for a in state["approvals"]] == [(1, "cancelled"), (2, "rejected")]
    assert state["orphans"] == [state["approvals"][0]["approval_id"]]
    assert state["decision"] == "Reject"
    assert result.tasks["apply_changes"] == "skipped"
    assert result.xcom("clean_up") == {"removed_rows": 120}
    assert result.xcom("verify_clean") == {"staged_rows_left": 0}
