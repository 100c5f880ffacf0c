"""120_10_04_content_moderation with airgate.testing: flagging fills the queues, decisions are applied and teach the next run."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import choose, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_10_04_content_moderation"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


@pytest.fixture(autouse=True)
def fresh_store() -> None:
    """Each test starts with an empty moderation store: no earlier run's feedback."""
    shutil.rmtree(Path(os.environ["AIRFLOW_HOME"]) / "airgate-120_10_04", ignore_errors=True)


def keep(by: str) -> Any:
    return choose("Keep", by=by)


def remove(by: str, reason: str) -> Any:
    return choose("Remove", by=by, reason=reason, state="rejected")


def queues(result: Any) -> dict[str, list[str]]:
    flagged = result.xcom("flag_posts")
    return {
        group: [p["post_id"] for p in flagged if p["queue"] == group] for group in ("routine", "severe", None)
    }


def test_flagging_queues_the_suspicious_posts_and_the_decisions_are_applied(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    decisions = {
        ("review_routine", 0): keep("bob"),
        ("review_routine", 1): remove("bob", "insult"),
        ("review_routine", 2): keep("carol"),
        ("review_routine", 3): remove("bob", "scam link"),
        ("review_severe", 0): remove("carol", "abuse"),
        ("review_severe", 1): remove("carol", "abuse"),
    }
    result = dag_test(dag, decisions)

    # Seed 1: four routine posts, two severe ones, six published at once.
    assert queues(result) == {
        "routine": ["p-1-03", "p-1-04", "p-1-06", "p-1-07"],
        "severe": ["p-1-02", "p-1-09"],
        None: ["p-1-00", "p-1-01", "p-1-05", "p-1-08", "p-1-10", "p-1-11"],
    }
    # The reviewer sees the post and the score feature by feature, computed from the post itself.
    body = airgate_bridge.registration("review_routine", map_index=1)["body"]
    assert "| word `idiot` | 2.50 |" in body and "**Score 4.50** against threshold 2.50" in body
    assert result.tasks["review_routine"] == "success"

    applied = result.xcom("apply_decisions")
    assert applied["store"]["removed"] == ["p-1-02", "p-1-04", "p-1-07", "p-1-09"]
    assert len(applied["store"]["published"]) == 8
    assert {r["post_id"]: (r["reviewer"], r["reason"]) for r in applied["reviews"]}["p-1-07"] == (
        "bob",
        "scam link",
    )
    report = result.xcom("moderation_report")
    assert report | {"store": None} == {
        "community": "general",
        "posts": 12,
        "auto_published": 6,
        "queued": {"routine": 4, "severe": 2},
        "kept": 2,
        "removed": 4,
        "timed_out": 0,
        "store": None,
        "threshold": 2.5,
        "feedback_read": {"decisions": 0, "kept": 0, "removed": 0},
        "adjustments": {"threshold": {"from": 2.5, "to": 2.5}, "weights": {}},
        "feedback_recorded": 6,
    }

    # The next run reads those six decisions: removals raised their words' weights, keeps lowered them, and the
    # reviewers removing most flagged posts lowered the threshold. p-1-04 now scores into the senior queue.
    again = dag_test(dag, {"review_routine": timeout(), "review_severe": timeout()})
    report = again.xcom("moderation_report")
    assert report["feedback_read"] == {"decisions": 6, "kept": 2, "removed": 4}
    assert report["adjustments"] == {
        "threshold": {"from": 2.5, "to": 2.17},
        "weights": {
            "click": {"from": 1.0, "to": 1.5},
            "crypto": {"from": 1.5, "to": 1.25},
            "guaranteed": {"from": 1.0, "to": 1.5},
            "idiot": {"from": 2.5, "to": 3.25},
            "scam": {"from": 2.0, "to": 2.25},
            "winner": {"from": 1.5, "to": 1.75},
        },
    }
    assert queues(again)["severe"] == ["p-1-02", "p-1-04", "p-1-09"]
    # Nobody answered: Airflow's default removed the posts, and a timeout teaches the flagging nothing.
    assert (report["timed_out"], report["removed"], report["feedback_recorded"]) == (6, 6, 0)
    assert again.state == "success"

    # Another community's flagging learns from its own decisions only.
    other = dag_test(dag, {}, run_conf={"posts": 2, "community": "gardening"})
    assert other.xcom("moderation_report")["feedback_read"] == {"decisions": 0, "kept": 0, "removed": 0}


def test_a_batch_without_suspicious_posts_is_published_whole(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {}, run_conf={"posts": 2, "seed": 1})

    assert queues(result) == {"routine": [], "severe": [], None: ["p-1-00", "p-1-01"]}
    assert result.tasks["review_routine"] == "skipped"
    assert result.xcom("apply_decisions")["store"] == {"published": ["p-1-00", "p-1-01"], "removed": []}
    assert result.xcom("moderation_report")["feedback_recorded"] == 0
    assert result.state == "success"
