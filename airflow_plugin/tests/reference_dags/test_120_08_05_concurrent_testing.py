"""120_08_05_concurrent_testing with airgate.testing: one decision per mapped approval, and the consistency check
catching a bridge that disagrees with Airflow or approved with too few people. Racing voters and the load test
need the real bridge: see this DAG's scenario in test/integration/testing-workflows.test.ts."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import Decision, approve, reject, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_08_05_concurrent_testing"
SHARDS = 6


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_every_shard_is_asked_and_only_approved_ones_load(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    decisions: dict[Any, Decision] = {
        "approve_shard": approve(by=["bob", "carol"]),
        ("approve_shard", 4): reject(by="carol", reason="row count drifted"),
    }
    result = dag_test(dag, decisions)

    assert result.state == "success"
    assert sorted(r["map_index"] for r in airgate_bridge.registrations) == list(range(SHARDS))
    assert airgate_bridge.registration("approve_shard", 2)["body"] == "Shard 2: 70 rows, total 3480."
    consistency = result.xcom("check_consistency")
    assert consistency["approved"] == [0, 1, 2, 3, 5]
    assert consistency["shards"]["4"] == "rejected"
    assert result.xcom("load_approved") == {"shards": 5, "rows": 40 + 55 + 70 + 85 + 115}


def test_an_approval_by_one_person_breaks_consistency(dag: Any, dag_test: Any) -> None:
    result = dag_test(
        dag, {"approve_shard": approve(by=["bob", "carol"]), ("approve_shard", 1): approve(by="bob")}
    )

    assert result.tasks["check_consistency"] == "failed"
    assert result.tasks["load_approved"] == "upstream_failed"


def test_airflow_and_the_bridge_disagreeing_fails_the_run(dag: Any, dag_test: Any) -> None:
    # Shard 3 timed out in Airflow (defaults: Reject) while the bridge still shows it pending.
    result = dag_test(dag, {"approve_shard": approve(by=["bob", "carol"]), ("approve_shard", 3): timeout()})

    assert result.tasks["check_consistency"] == "failed"
    assert result.state == "failed"
