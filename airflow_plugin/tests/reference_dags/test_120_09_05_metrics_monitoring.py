"""120_09_05_metrics_monitoring with airgate.testing: latency and SLA figures from the run's own reviews, the alert on
reviews left waiting, and a dashboard built from the metrics the (simulated) bridge exports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, expire, reject, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_09_05_metrics_monitoring"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_reviews_decided_in_time_meet_their_sla_and_fill_the_dashboard(dag: Any, dag_test: Any) -> None:
    decisions = {
        "review_change": approve(by="bob"),
        ("review_change", 1): reject(by="carol", reason="not now"),
    }
    result = dag_test(dag, decisions, run_conf={"changes": 3})

    assert result.state == "success"
    assert result.tasks["watch_pending"] == "success"
    figures = result.xcom("measure_reviews")
    assert [r["state"] for r in figures["reviews"]] == ["approved", "rejected", "approved"]
    assert figures["sla"] == {"met": 3, "breached": 0, "pending": 0, "compliance": 1.0}
    assert all(r["margin_s"] > 0 for r in figures["reviews"])
    for what in ("decided", "resumed"):
        waits = sorted(r[f"{what}_s"] for r in figures["reviews"])
        latency = figures["latency"][what]
        assert (latency["count"], latency["p50_s"], latency["max_s"]) == (3, waits[1], waits[2])
    # People decide before Airflow resumes: the bridge answers Airflow once they have.
    assert all(0 <= r["decided_s"] <= r["resumed_s"] for r in figures["reviews"])

    dashboard = result.xcom("build_dashboard")
    assert dashboard["panels"] == [
        "airgate_approvals_pending",
        "airgate_decisions_total",
        "airgate_votes_total",
    ]
    assert dashboard["bridge_pending"] == 0
    model = json.loads(Path(dashboard["dashboard"]).read_text())
    assert [p["targets"][0]["expr"] for p in model["panels"]] == [
        "max (airgate_approvals_pending)",
        "sum by (state) (rate(airgate_decisions_total[$__rate_interval]))",
        "sum by (channel, result) (rate(airgate_votes_total[$__rate_interval]))",
    ]
    assert "SLA: 3 met, 0 breached, compliance 1.0." in dashboard["summary"]


def test_a_review_left_waiting_raises_the_alert_and_an_expired_one_breaches_its_sla(
    dag: Any, dag_test: Any
) -> None:
    decisions = {
        ("review_change", 0): approve(by="bob"),
        ("review_change", 1): expire(),
        ("review_change", 2): timeout(),
    }
    result = dag_test(dag, decisions, run_conf={"changes": 3, "alert_after_s": 0, "max_pending": 0})

    assert result.state == "failed"
    assert result.tasks["watch_pending"] == "failed"
    alerts = result.xcom("watch_pending", key="alerts")
    assert [(a["alert"], a["review"]) for a in alerts] == [("waiting", 2), ("backlog", None)]
    figures = result.xcom("measure_reviews")
    assert [r["state"] for r in figures["reviews"]] == ["approved", "expired", "pending"]
    assert figures["sla"] == {"met": 1, "breached": 1, "pending": 1, "compliance": 0.5}
    assert (figures["latency"]["decided"]["count"], figures["latency"]["resumed"]["count"]) == (1, 1)
    assert result.tasks["build_dashboard"] == "success"
    assert "1 met, 1 breached, compliance 0.5" in result.xcom("build_dashboard")["summary"]
