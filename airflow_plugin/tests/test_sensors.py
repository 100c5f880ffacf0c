"""The sensors on the bridge's store and status API: succeed on approval, wait while pending, skip on refusal."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from types import SimpleNamespace
from unittest import mock

import pytest
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowSkipException

from airgate import ApprovalRecordSensor, ApprovalSignalRunSensor, query_store
from airgate.sensors.status import _approved_response


def test_the_store_is_read_through_the_connection_read_only(tmp_path, monkeypatch):
    store = tmp_path / "bridge.sqlite"
    with sqlite3.connect(store) as db:
        db.execute("create table approval_status (dag_id text, state text)")
        db.execute("insert into approval_status values ('d', 'approved')")
    conn = {"conn_type": "sqlite", "host": str(store), "extra": {"mode": "ro"}}
    monkeypatch.setenv("AIRFLOW_CONN_AIRGATE_STORE", json.dumps(conn))
    assert query_store("select state from approval_status where dag_id = :d", {"d": "d"}) == [("approved",)]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        query_store("delete from approval_status", {})


def test_the_status_sensor_waits_on_pending_and_skips_on_a_refusal():
    def answer(state):
        return SimpleNamespace(json=lambda: {"state": state})

    # Done with the decision it saw as its XCom; broken glass lets the wait go on too.
    for state in ("approved", "bypassed"):
        done = _approved_response(answer(state))
        assert isinstance(done, PokeReturnValue)
        assert (done.is_done, done.xcom_value) == (True, {"state": state})
    assert _approved_response(answer("pending")) is False
    with pytest.raises(AirflowSkipException, match="rejected"):
        _approved_response(answer("rejected"))


@pytest.mark.parametrize(
    ("rows", "expected", "outcome"),
    [
        ([("approved", 2)], True, "found"),
        ([("approved", 0)], False, "pending"),
        ([], False, "pending"),
        ([("expired", 0)], "skip", "refused"),
    ],
)
def test_the_record_sensor_succeeds_waits_or_skips_and_counts_each_poke(monkeypatch, rows, expected, outcome):
    sensor = ApprovalRecordSensor(
        task_id="wait",
        sql="select state, votes from approval_status",
        success=lambda row: row[0] == "approved" and row[1] > 0,
        failure=lambda row: row[0] != "approved",
    )
    monkeypatch.setattr("airgate.sensors.store.query_store", lambda sql, parameters, conn_id: rows)
    with mock.patch("airgate.metrics.Stats") as stats:
        if expected == "skip":
            with pytest.raises(AirflowSkipException):
                sensor.poke({})
        elif expected:
            # Done with the record it found as its XCom: what follows need not query again.
            done = sensor.poke({})
            assert isinstance(done, PokeReturnValue)
            assert done.is_done is True
            assert done.xcom_value["record"] == list(rows[0])
            assert datetime.fromisoformat(done.xcom_value["detected_at"]).tzinfo is not None
        else:
            assert sensor.poke({}) is False
    stats.incr.assert_called_once_with(f"airgate.sensor.wait.{outcome}")


def test_the_signal_run_sensor_matches_the_approvals_run_and_keeps_its_decision():
    sensor = ApprovalSignalRunSensor(task_id="wait", approval_id="a1")
    signal = {"state": "approved", "option": "Deploy", "deciders": [{"user": "bob"}]}
    counts = {"success": 0, "skipped": 0, "failed": 0}
    ti = mock.Mock()
    ti.get_ti_count.side_effect = lambda dag_id, task_ids, run_ids, states: counts[states[0]]
    ti.xcom_pull.return_value = signal
    context = {"ti": ti}

    assert sensor.poke(context) is False
    counts["success"] = 1
    done = sensor.poke(context)
    assert isinstance(done, PokeReturnValue)
    assert (done.is_done, done.xcom_value) == (True, signal)
    # Only the run this approval's decision creates counts, never another run of the signal DAG.
    assert {call.kwargs["run_ids"][0] for call in ti.get_ti_count.call_args_list} == {"airgate__a1"}
    ti.xcom_pull.assert_called_with(
        dag_id="airgate_approval_signal", run_id="airgate__a1", task_ids="decision"
    )
    counts["skipped"] = 1
    with pytest.raises(AirflowSkipException, match="not approved"):
        sensor.poke(context)
