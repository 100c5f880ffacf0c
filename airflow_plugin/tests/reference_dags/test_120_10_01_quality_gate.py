"""120_10_01_quality_gate with airgate.testing: the figures come from the batch, and only an approval loads it."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_10_01_quality_gate"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_a_clean_batch_is_approved_and_loaded(dag: Any, dag_test: Any, airgate_bridge: Any) -> None:
    result = dag_test(dag, {"quality_review": approve(by="carol")}, run_conf={"batch_size": 120})

    profile = result.xcom("profile_quality")
    assert profile["rows"] == 120
    assert (profile["metrics"]["email_complete"], profile["metrics"]["amount_valid"]) == (1.0, 1.0)
    assert "email_complete" not in profile["failed"]
    assert "rollback_staging" not in result.followed("quality_review")
    assert result.xcom("publish_to_production") == {"loaded_rows": 120, "rows_in_production": 120}
    assert result.tasks["rollback_staging"] == "skipped"
    assert result.xcom("report_quality_gate")["decision"] == "Approve"
    # The reviewer is shown the measured figures, not a verdict someone typed.
    body = airgate_bridge.registration("quality_review")["body"]
    assert "| email_complete | 100.00% |" in body
    assert "![Batch quality against thresholds](data:image/svg+xml;base64," in body


def test_a_defective_batch_shows_its_failures_and_a_rejection_rolls_it_back(dag: Any, dag_test: Any) -> None:
    result = dag_test(
        dag,
        {"quality_review": reject(by="carol", reason="too many broken rows")},
        run_conf={"batch_size": 200, "defect_rate": 0.3, "seed": 11},
    )

    profile = result.xcom("profile_quality")
    assert {"email_complete", "amount_valid", "id_unique"} <= set(profile["failed"])
    assert 0 < profile["metrics"]["email_complete"] < 0.99
    assert "❌" in profile["markdown"] and "Failing rows (first 5)" in profile["markdown"]
    assert "publish_to_production" not in result.followed("quality_review")
    assert result.xcom("rollback_staging") == {"discarded_rows": 200, "rows_in_production": 0}
    assert result.tasks["publish_to_production"] == "skipped"
    assert result.xcom("report_quality_gate")["failed_checks"] == profile["failed"]
