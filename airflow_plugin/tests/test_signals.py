"""External approvals: the request a sensor waits for, the signal DAG, and the readers of files, store and API."""

from __future__ import annotations

import io
import json
import sqlite3
import urllib.error
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import Asset
from airflow.sdk.exceptions import AirflowSkipException

from airgate import REQUESTED_AT_KEY
from airgate.signals import (
    FILE_SIGNAL,
    SIGNAL_DAG_ID,
    SIGNAL_TASK_ID,
    RequestApprovalOperator,
    approval_status,
    asset_event,
    query_store,
    read_signal_file,
    remove_signal_file,
    signal_file,
    trigger_dag,
)

AIRGATE_DAGS = Path(__file__).resolve().parents[1] / "src" / "airgate" / "dags"
RUN_AFTER = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)


def context(logical_date: datetime | None = None) -> dict[str, object]:
    return {
        "ti": mock.Mock(
            dag_id="d", run_id="manual__1", task_id="request_approval", map_index=-1, try_number=2
        ),
        "dag_run": SimpleNamespace(run_after=RUN_AFTER, triggering_user_name="alice", conf={"amount": 5}),
        "dag": SimpleNamespace(tags={"reference", "core"}),
        "logical_date": logical_date,
    }


def test_request_registers_an_external_approval_with_its_signals_pinned_to_the_run():
    operator = RequestApprovalOperator(
        task_id="request_approval",
        subject="Deploy?",
        signals=[trigger_dag(), FILE_SIGNAL, asset_event(Asset(name="a", uri="airgate://approvals/x"))],
    )
    ctx = context()
    with mock.patch("airgate.signals._bridge", return_value={"id": "ap-1"}) as bridge:
        assert operator.execute(ctx) == "ap-1"
    path, conn_id, payload = bridge.call_args.args
    assert (path, conn_id) == ("/api/v1/approvals", "airgate_bridge")
    assert payload == {
        "dag_id": "d",
        "run_id": "manual__1",
        "task_id": "request_approval",
        "map_index": -1,
        "try_number": 2,
        "subject": "Deploy?",
        "body": None,
        "options": ["Approve", "Reject"],
        "requester": "alice",
        "tags": ["core", "reference"],
        "values": {"amount": 5},
        "external": True,
        "signals": [
            # No logical date (a run triggered without one): the sensor matches run_after, so the signal does.
            {
                "kind": "trigger_dag",
                "dag_id": SIGNAL_DAG_ID,
                "logical_date": "2026-11-25T10:00:00.123456+00:00",
            },
            {"kind": "file"},
            {"kind": "asset_event", "uri": "airgate://approvals/x"},
        ],
    }
    assert ctx["ti"].xcom_push.call_args.kwargs["key"] == REQUESTED_AT_KEY


def test_a_failed_registration_fails_the_task():
    operator = RequestApprovalOperator(task_id="request_approval", subject="Deploy?")
    with (
        mock.patch("airgate.signals._bridge", side_effect=urllib.error.URLError("refused")),
        pytest.raises(urllib.error.URLError),
    ):
        operator.execute(context(RUN_AFTER))


def _http_error(code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("http://bridge", code, "x", {}, io.BytesIO(b"{}"))


def test_approval_status_is_none_until_the_bridge_knows_the_approval():
    with mock.patch("airgate.signals._bridge", side_effect=_http_error(404)):
        assert approval_status("d", "r", "t") is None
    with (
        mock.patch("airgate.signals._bridge", side_effect=_http_error(401)),
        pytest.raises(urllib.error.HTTPError),
    ):
        approval_status("d", "r", "t")
    with mock.patch("airgate.signals._bridge", return_value={"state": "approved"}) as bridge:
        assert approval_status("d", "manual__1+00:00", "t") == {"state": "approved"}
    assert (
        bridge.call_args.args[0] == "/api/v1/signals/approvals?dag_id=d&run_id=manual__1%2B00%3A00&task_id=t"
    )


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


def test_the_status_sensor_waits_on_pending_and_skips_on_a_refusal():
    from airflow.sdk.exceptions import AirflowSkipException

    from airgate.signals import _approved_response

    def answer(state):
        return SimpleNamespace(json=lambda: {"state": state})

    assert _approved_response(answer("approved")) is True
    assert _approved_response(answer("pending")) is False
    with pytest.raises(AirflowSkipException, match="rejected"):
        _approved_response(answer("rejected"))


@pytest.mark.parametrize(
    ("rows", "expected"),
    [([("approved", 2)], True), ([("approved", 0)], False), ([], False), ([("expired", 0)], "skip")],
)
def test_the_record_sensor_succeeds_waits_or_skips(monkeypatch, rows, expected):
    from airflow.sdk.exceptions import AirflowSkipException

    from airgate.signals import ApprovalRecordSensor

    sensor = ApprovalRecordSensor(
        task_id="wait",
        sql="select state, votes from approval_status",
        success=lambda row: row[0] == "approved" and row[1] > 0,
        failure=lambda row: row[0] != "approved",
    )
    monkeypatch.setattr(
        sensor, "_get_hook", lambda: SimpleNamespace(get_records=lambda sql, parameters: rows)
    )
    if expected == "skip":
        with pytest.raises(AirflowSkipException):
            sensor.poke({})
    else:
        assert sensor.poke({}) is expected
