"""120_10_05_ml_model_approval with airgate.testing: figures from the models themselves, two gates, and the way back."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, choose, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_10_05_ml_model_approval"


# Parsed per test: dag.test() leaves a run's conf in the DAG's params, where the next test would find it.
@pytest.fixture
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def fresh_model() -> str:
    """A model name the registry has never seen, so its first champion is the baseline v1."""
    return f"kit_{uuid.uuid4().hex[:8]}"


def ab_and_ship(share: float = 0.3) -> dict[str, Any]:
    return {
        "approve_ab_test": approve(by="bob", params_input={"traffic_share": share}),
        "approve_promotion": choose("Ship", by=["bob", "carol"]),
    }


def test_a_better_candidate_is_tested_promoted_and_kept(dag: Any, dag_test: Any, airgate_bridge: Any) -> None:
    model = fresh_model()
    result = dag_test(dag, ab_and_ship(), run_conf={"model": model})

    performance = result.xcom("review_performance")["metrics"]
    # Scored on the same holdout: today's candidate ranks visitors better than last year's baseline.
    assert performance["candidate"]["auc"] > performance["champion"]["auc"] + 0.1
    assert performance["candidate"]["ece"] < performance["champion"]["ece"]
    review = airgate_bridge.registration("approve_ab_test")
    assert review["subject"] == f"Start an A/B test of {model} v2 against v1?"
    assert (
        f"| AUC | {performance['champion']['auc']:.3f} | {performance['candidate']['auc']:.3f} |"
        in review["body"]
    )

    ab_test = result.xcom("run_ab_test")
    assert ab_test["traffic_share"] == 0.3  # the reviewer's choice in the form
    arms = ab_test["arms"]
    assert arms["candidate"]["visitors"] + arms["champion"]["visitors"] == 4000
    assert ab_test["lift"] == round(arms["candidate"]["rate"] - arms["champion"]["rate"], 4) > 0
    assert ab_test["significant"] and ab_test["p_value"] < 0.05
    assert "significant at 0.05" in airgate_bridge.registration("approve_promotion")["body"]

    assert result.tasks["end_ab_test"] == "skipped"
    assert result.xcom("promote_candidate") == {
        "production": 2,
        "previous": 1,
        "challenger": None,
        "challenger_share": 0,
    }
    assert result.xcom("post_promotion_check")["passed"]
    assert result.tasks["roll_back_promotion"] == "skipped"
    record = result.xcom("record_model_decision")
    assert (record["outcome"], record["serving"]["production"], record["serving"]["previous"]) == (
        "promoted",
        2,
        1,
    )
    assert record["decided_by"]["approve_promotion"] == ["bob: Ship", "carol: Ship"]


def test_a_promotion_that_fails_on_live_traffic_restores_the_previous_champion(
    dag: Any, dag_test: Any
) -> None:
    result = dag_test(dag, ab_and_ship(), run_conf={"model": fresh_model(), "live_drift": 1.0})

    assert result.tasks["promote_candidate"] == "success"
    assert result.tasks["post_promotion_check"] == "failed"
    check = result.xcom("post_promotion_check")
    assert not check["passed"] and check["live"]["auc"] < check["approved_auc"] - 0.1
    assert result.xcom("roll_back_promotion") == {
        "withdrawn": 2,
        "production": 1,
        "previous": None,
        "challenger": None,
        "challenger_share": 0,
    }
    assert result.xcom("record_model_decision")["outcome"] == "rolled_back"


def test_a_held_candidate_is_withdrawn_and_the_champion_serves_all_traffic(dag: Any, dag_test: Any) -> None:
    decisions = {
        "approve_ab_test": approve(by="bob", params_input={"traffic_share": 0.2}),
        "approve_promotion": choose("Hold", by="bob", reason="not significant yet", state="rejected"),
    }
    result = dag_test(dag, decisions, run_conf={"model": fresh_model(), "ab_users": 300})

    ab_test = result.xcom("run_ab_test")
    assert not ab_test["significant"] and ab_test["p_value"] >= 0.05
    assert result.tasks["promote_candidate"] == "skipped"
    assert result.xcom("end_ab_test") == {
        "production": 1,
        "previous": None,
        "challenger": None,
        "challenger_share": 0,
    }
    record = result.xcom("record_model_decision")
    assert (record["outcome"], record["serving"]["production"]) == ("held", 1)


def test_a_candidate_refused_an_ab_test_never_serves(dag: Any, dag_test: Any) -> None:
    result = dag_test(
        dag,
        {"approve_ab_test": reject(by="bob", reason="calibration first")},
        run_conf={"model": fresh_model()},
    )

    assert {
        result.tasks[t] for t in ("run_ab_test", "approve_promotion", "promote_candidate", "end_ab_test")
    } == {"skipped"}
    record = result.xcom("record_model_decision")
    assert (record["outcome"], record["ab_test"], record["serving"]["challenger"]) == (
        "not_tested",
        None,
        None,
    )
