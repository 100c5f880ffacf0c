"""120_07_05_no_tracking_antipattern with airgate.testing: the hand-sent notification reports success though it
went nowhere and the untracked request fails unanswered; the tracked gate decides."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_07_05_no_tracking_antipattern"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_the_silent_request_fails_and_the_tracked_one_ships(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    result = dag_test(dag, {"untracked_gate": timeout(), "tracked_gate": approve(by="bob", channel="email")})

    # The post to the retired webhook was refused, yet the task reports it notified.
    assert result.xcom("notify_by_hand") == "notified"
    assert result.tasks["untracked_gate"] == "failed"
    assert result.tasks["ship_untracked"] == "upstream_failed"
    assert result.state == "failed"
    # Only the tracked gate reached the bridge, which delivers, tracks and retries its notifications.
    assert [r["task_id"] for r in airgate_bridge.registrations] == ["tracked_gate"]
    assert result.tasks["ship_tracked"] == "success"
    record = result.xcom("report")
    assert (record["state"], record["deciders"][0]["user"], record["deciders"][0]["channel"]) == (
        "approved",
        "bob",
        "email",
    )
