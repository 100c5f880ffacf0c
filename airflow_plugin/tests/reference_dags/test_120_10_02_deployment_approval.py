"""120_10_02_deployment_approval with airgate.testing: the reviewed diff, the staged rollout and its rollback, break-glass."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, choose, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_10_02_deployment_approval"
STAGES = ["deploy_canary", "deploy_partial", "deploy_full"]


# Parsed per test: dag.test() leaves a run's conf in the DAG's params, where the next test would find it.
@pytest.fixture
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_the_reviewed_change_is_deployed_stage_by_stage(dag: Any, dag_test: Any, airgate_bridge: Any) -> None:
    result = dag_test(dag, {"approve_deployment": approve(by=["bob", "carol"])})

    plan, change = result.xcom("plan_release"), result.xcom("review_change")
    # The diff is computed from the two manifests, and it is what the reviewers were shown.
    for c in change["changes"]:
        running, proposed = (plan[side]["services"][c["service"]] for side in ("running", "proposed"))
        assert c["image"] == [running["image"].split(":")[1], proposed["image"].split(":")[1]]
        assert {k["key"] for k in c["config"]} == {
            key
            for key in running["config"].keys() | proposed["config"].keys()
            if running["config"].get(key) != proposed["config"].get(key)
        }
    assert 2 <= len(change["changes"]) <= 4
    registered = airgate_bridge.registration("approve_deployment")
    assert registered["body"] == change["markdown"]
    first = change["changes"][0]
    assert f"| {first['service']} | `{first['image'][0]}` → `{first['image'][1]}` |" in registered["body"]
    assert registered["subject"] == f"Deploy {plan['proposed']['release']} to production?"

    assert all(result.tasks[stage] == "success" for stage in STAGES)
    assert [result.xcom(stage)["traffic_percent"] for stage in STAGES] == [5, 50, 100]
    assert all(result.xcom(stage)["error_rate"] <= 0.02 for stage in STAGES)
    assert result.tasks["roll_back_release"] == "skipped"
    record = result.xcom("record_deployment")
    assert record["outcome"] == "deployed" and record["live_release"] == plan["proposed"]["release"]
    assert (record["approved_by"], record["bypassed"], record["incident"]) == (["bob", "carol"], False, None)


def test_a_stage_outside_its_health_limits_stops_the_rollout_and_rolls_back(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_deployment": approve(by=["bob", "carol"])}, run_conf={"regression": 0.1})

    # The canary's 5% barely shows the regression; at 50% it breaks the error budget.
    assert result.tasks["deploy_canary"] == "success"
    assert result.tasks["deploy_partial"] == "failed"
    assert result.tasks["deploy_full"] == "upstream_failed"
    partial = result.xcom("deploy_partial")
    assert partial["failed"] == ["error_rate"] and partial["error_rate"] > 0.02
    plan = result.xcom("plan_release")
    assert result.xcom("roll_back_release") == {
        "restored_release": plan["running"]["release"],
        "restored_images": {s: spec["image"] for s, spec in plan["running"]["services"].items()},
        "failed_stage": "partial",
        "traffic_moved_back_percent": 50,
    }
    record = result.xcom("record_deployment")
    assert (record["outcome"], record["failed_stage"], record["live_release"]) == (
        "rolled_back",
        "partial",
        plan["running"]["release"],
    )
    assert [s["stage"] for s in record["stages"]] == ["canary", "partial"]


def test_a_rejected_deployment_deploys_nothing(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_deployment": reject(by="bob", reason="config change not tested")})

    assert all(result.tasks[stage] == "skipped" for stage in STAGES)
    assert result.tasks["roll_back_release"] == "skipped"
    record = result.xcom("record_deployment")
    assert (record["outcome"], record["stages"], record["approved_by"]) == ("held", [], [])


def test_an_emergency_bypassed_by_the_on_call_engineer_is_recorded(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    glass = choose(
        "Approve", by="carol", reason="INC-4711: checkout down", state="bypassed", channel="break_glass"
    )
    result = dag_test(
        dag, {"approve_deployment": glass}, run_conf={"emergency": True, "incident": "INC-4711"}
    )

    registered = airgate_bridge.registration("approve_deployment")
    assert registered["subject"].startswith("EMERGENCY INC-4711: Deploy ")
    assert "Emergency for incident INC-4711" in registered["body"]
    # The bypass skipped the people, not the health checks.
    assert all(result.tasks[stage] == "success" for stage in STAGES)
    record = result.xcom("record_deployment")
    assert record["outcome"] == "deployed" and record["approval_state"] == "bypassed"
    assert (record["bypassed"], record["bypassed_by"], record["bypass_reason"], record["incident"]) == (
        True,
        "carol",
        "INC-4711: checkout down",
        "INC-4711",
    )
    assert record["approved_by"] == []


def test_an_emergency_must_name_its_incident(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {}, run_conf={"emergency": True})

    assert result.state == "failed"
    assert result.tasks["plan_release"] == "failed"
    assert result.tasks["approve_deployment"] == "upstream_failed"
