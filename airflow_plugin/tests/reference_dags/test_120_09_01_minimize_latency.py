"""120_09_01_minimize_latency with airgate.testing: both paths measured from the run's and the bridge's own times."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_09_01_minimize_latency"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_the_polling_path_reschedules_and_the_push_path_parks(dag: Any) -> None:
    sensor = dag.get_task("poll_approval")
    assert (sensor.mode, sensor.poke_interval) == ("reschedule", 15)
    assert dag.get_task("push_approval").response_timeout.total_seconds() == sensor.timeout


def test_each_path_is_measured_from_request_to_resume(dag: Any, dag_test: Any, airgate_bridge: Any) -> None:
    airgate_bridge.deliver("push_approval", "messages")
    airgate_bridge.deliver("push_approval", "email", after=1.5)
    airgate_bridge.deliver("request_polled", "messages")
    result = dag_test(
        dag, {"push_approval": approve(by="bob"), "request_polled": approve(by="carol", channel="email")}
    )

    assert result.state == "success"
    assert result.tasks["roll_out_push"] == result.tasks["roll_out_poll"] == "success"
    report = result.xcom("latency_report")
    push, poll = report["push"], report["poll"]
    assert (push["state"], push["registered_by"], poll["state"], poll["registered_by"]) == (
        "approved",
        "push",
        "approved",
        "push",
    )
    # From the bridge's notice at registration: the inbox at once, the email the bridge sent 1.5 s later.
    assert push["notified_s"] == {"messages": 0.0, "email": 1.5}
    assert set(poll["notified_s"]) == {"messages"}
    # Causality, whatever the machine's speed: decided, then answered in Airflow, then resumed.
    assert push["decision_to_answer_s"] >= 0 and push["answer_to_resume_s"] > 0
    assert push["decision_to_resume_s"] == pytest.approx(
        push["decision_to_answer_s"] + push["answer_to_resume_s"], abs=0.002
    )
    assert poll["decision_to_resume_s"] > 0 and poll["poke_interval_s"] == 15
    assert report["resumed_first"] in ("push", "poll")
    assert airgate_bridge.registration("push_approval")["subject"].startswith("Roll out build 2.4.1 to eu (")


def test_a_rejection_skips_the_rollout_on_either_path_and_the_report_still_runs(
    dag: Any, dag_test: Any
) -> None:
    result = dag_test(
        dag,
        {"push_approval": reject(by="bob", reason="error spike"), "request_polled": reject(by="carol")},
    )

    assert result.tasks["poll_approval"] == "skipped"
    assert result.tasks["roll_out_push"] == result.tasks["roll_out_poll"] == "skipped"
    report = result.xcom("latency_report")
    assert (report["push"]["state"], report["poll"]["state"]) == ("rejected", "rejected")
    assert report["push"]["decision_to_resume_s"] is None and report["resumed_first"] is None
    assert report["push"]["decision_to_answer_s"] >= 0
