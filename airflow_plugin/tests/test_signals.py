"""Signals: the file a sensor waits for and the signal DAG an ExternalTaskSensor waits on."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from airgate import (
    SIGNAL_DAG_ID,
    SIGNAL_TASK_ID,
    ApprovalSignalRunSensor,
    read_signal_file,
    remove_signal_file,
    signal_file,
    signal_run_id,
)

AIRGATE_DAGS = Path(__file__).resolve().parents[1] / "src" / "airgate" / "dags"


def test_a_file_signal_is_read_and_cleaned_up_with_its_run_folder(tmp_path):
    path = tmp_path / "d" / "manual__1" / "request_approval.json"
    path.parent.mkdir(parents=True)
    path.write_text('{"approval_id": "ap-1", "state": "approved"}')
    assert read_signal_file(path) == {"approval_id": "ap-1", "state": "approved"}
    remove_signal_file(path)
    remove_signal_file(path)  # a second cleanup (a retried task) changes nothing
    assert not path.parent.exists()
    assert (tmp_path / "d").exists()
    assert signal_file("request_approval") == "{{ dag.dag_id }}/{{ run_id }}/request_approval.json"


def test_the_signal_dag_succeeds_on_approval_and_skips_otherwise():
    dagbag = DagBag(dag_folder=str(AIRGATE_DAGS))
    assert dagbag.import_errors == {}
    decision = dagbag.dags[SIGNAL_DAG_ID].get_task(SIGNAL_TASK_ID).python_callable
    approved = {"approval_id": "ap-1", "state": "approved"}
    assert decision(dag_run=SimpleNamespace(conf={"airgate_approval": approved})) == approved
    with pytest.raises(AirflowSkipException, match="ap-2 is rejected"):
        decision(
            dag_run=SimpleNamespace(conf={"airgate_approval": {"approval_id": "ap-2", "state": "rejected"}})
        )


class CountingTI:
    """
    A task instance whose get_ti_count answers from ``states`` (task state per run id) and records each ask;
    its xcom_pull answers the decision each signal run pushed (``decisions``, by run id).
    """

    def __init__(self, states: dict[str, str], decisions: dict[str, dict[str, object]] | None = None) -> None:
        self.states = states
        self.decisions = decisions or {}
        self.asked: list[dict[str, object]] = []

    def xcom_pull(self, *, dag_id: str, run_id: str, task_ids: str) -> dict[str, object] | None:
        assert (dag_id, task_ids) == (SIGNAL_DAG_ID, SIGNAL_TASK_ID)
        return self.decisions.get(run_id)

    def get_ti_count(self, **query: object) -> int:
        self.asked.append(query)
        run_ids = query["run_ids"]
        wanted = query["states"]
        assert isinstance(run_ids, list) and isinstance(wanted, list)
        return sum(1 for run_id in run_ids if self.states.get(run_id) in wanted)


def test_the_signal_run_sensor_matches_its_own_approval_run_not_a_logical_date():
    sensor = ApprovalSignalRunSensor(task_id="wait", approval_id="a1", poke_interval=1, timeout=10)
    # Another approval's signal run (same logical date, were there one) releases nothing.
    ti = CountingTI({signal_run_id("a2"): "success"})
    assert sensor.poke({"ti": ti}) is False  # type: ignore[arg-type]
    assert {tuple(q["run_ids"]) for q in ti.asked} == {("airgate__a1",)}  # type: ignore[arg-type]
    assert all("logical_dates" not in q for q in ti.asked)
    assert all(q["dag_id"] == SIGNAL_DAG_ID and q["task_ids"] == [SIGNAL_TASK_ID] for q in ti.asked)

    decision = {"approval_id": "a1", "state": "approved", "option": "Approve"}
    done = sensor.poke({"ti": CountingTI({"airgate__a1": "success"}, {"airgate__a1": decision})})  # type: ignore[arg-type]
    assert isinstance(done, PokeReturnValue)
    assert done.is_done is True
    assert done.xcom_value == decision  # the sensor's XCom is the decision its own signal run carried
    with pytest.raises(AirflowSkipException, match="a1 was not approved"):
        sensor.poke({"ti": CountingTI({"airgate__a1": "skipped"})})  # type: ignore[arg-type]
    with pytest.raises(AirflowException, match="signal run airgate__a1 ended"):
        sensor.poke({"ti": CountingTI({"airgate__a1": "failed"})})  # type: ignore[arg-type]
    assert "approval_id" in sensor.template_fields
