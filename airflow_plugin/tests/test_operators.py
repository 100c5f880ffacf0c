"""airgate's operators: the bridge decides every one of them, branch mappings are complete, and an
external request registers its approval and the signals to publish."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import pytest
import requests
from airflow.sdk import Asset
from airflow.sdk.exceptions import DownstreamTasksSkipped

from airgate import (
    APPROVAL_ID_KEY,
    FILE_SIGNAL,
    REQUESTED_AT_KEY,
    SERVICE_ACCOUNT,
    SIGNAL_DAG_ID,
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
    RequestApprovalOperator,
    asset_event,
    trigger_dag,
)
from airgate.notifiers.bridge import BridgeRegistrationNotifier, RequestTimeNotifier

from conftest import FakeBridge

BRANCH = {
    "options": ["Approve", "Reject"],
    "options_mapping": {"Approve": "deploy", "Reject": "close"},
}


def build(cls, **kwargs):
    extra = BRANCH if cls is AirgateBranchOperator else {}
    if cls is AirgateHITLOperator:
        extra = {"options": ["Ship", "Hold"]}
    return cls(task_id="ask", subject="Go?", **extra, **kwargs)


OPERATORS = [AirgateApprovalOperator, AirgateBranchOperator, AirgateHITLOperator]


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_only_the_bridge_service_account_may_answer(cls):
    assert build(cls).assigned_users == [{"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT}]


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_assigning_people_in_the_dag_is_refused(cls):
    with pytest.raises(ValueError, match="policies"):
        build(cls, assigned_users=[{"id": "alice", "name": "alice"}])


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_registration_and_request_time_come_before_the_dags_own_notifiers(cls):
    own = mock.Mock(spec=BridgeRegistrationNotifier)
    notifiers = build(cls, notifiers=[own]).notifiers
    assert [type(n) for n in notifiers[:2]] == [BridgeRegistrationNotifier, RequestTimeNotifier]
    assert notifiers[2] is own


def test_branch_options_must_all_be_mapped():
    with pytest.raises(ValueError, match=r"missing: \['Defer'\]"):
        AirgateBranchOperator(
            task_id="decide",
            subject="Go?",
            options=["Approve", "Defer"],
            options_mapping={"Approve": "deploy"},
        )


def test_branch_mapping_may_not_name_unknown_options():
    with pytest.raises(ValueError, match="not in `options`"):
        AirgateBranchOperator(
            task_id="decide",
            subject="Go?",
            options=["Approve"],
            options_mapping={"Approve": "deploy", "Maybe": "wait"},
        )


def answer(option: str) -> dict:
    return {
        "chosen_options": [option],
        "params_input": {},
        "responded_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "responded_by_user": {"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT},
    }


def test_branch_keeps_the_decision_when_it_skips_the_paths_not_chosen():
    op = build(AirgateBranchOperator)
    ti = mock.Mock()
    # Airflow ends a branch that skips something with DownstreamTasksSkipped, so its return is never pushed.
    skipped = DownstreamTasksSkipped(tasks=["deploy"])
    with (
        mock.patch.object(AirgateBranchOperator, "do_branch", side_effect=skipped) as do_branch,
        pytest.raises(DownstreamTasksSkipped),
    ):
        op.execute_complete({"ti": ti}, answer("Reject"))
    assert do_branch.call_args.kwargs["branches_to_execute"] == ["close"]
    ti.xcom_push.assert_called_once_with(key="return_value", value=answer("Reject"))


def test_approval_keeps_the_decision_on_reject_and_returns_it_on_approve():
    op = build(AirgateApprovalOperator)
    op.downstream_task_ids.add("load")
    ti = mock.Mock()
    with (
        mock.patch.object(
            AirgateApprovalOperator, "skip", side_effect=DownstreamTasksSkipped(tasks=["load"])
        ),
        mock.patch.object(AirgateApprovalOperator, "get_direct_relatives", return_value=[]),
        pytest.raises(DownstreamTasksSkipped),
    ):
        op.execute_complete({"ti": ti, "task": op}, answer("Reject"))
    ti.xcom_push.assert_called_once_with(key="return_value", value=answer("Reject"))

    assert op.execute_complete({"ti": mock.Mock(), "task": op}, answer("Approve")) == answer("Approve")


def test_request_time_notifier_records_when_the_question_was_asked():
    ti = mock.Mock()
    RequestTimeNotifier().notify({"ti": ti})
    key, value = ti.xcom_push.call_args.kwargs["key"], ti.xcom_push.call_args.kwargs["value"]
    assert key == REQUESTED_AT_KEY
    assert datetime.fromisoformat(value).tzinfo is not None


RUN_AFTER = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)


def context(logical_date: datetime | None = None, **extra: object) -> dict[str, object]:
    return {
        "ti": mock.Mock(
            dag_id="d", run_id="manual__1", task_id="request_approval", map_index=-1, try_number=2
        ),
        "dag_run": SimpleNamespace(run_after=RUN_AFTER, triggering_user_name="alice", conf={"amount": 5}),
        "dag": SimpleNamespace(
            tags={"reference", "core"}, tasks=[SimpleNamespace(owner="ops"), SimpleNamespace(owner="data")]
        ),
        "logical_date": logical_date,
        **extra,
    }


REGISTRATION = {
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
    "owners": ["data", "ops"],
    "values": {"amount": 5},
}


def test_the_notifier_registers_the_request_with_its_form(bridge: FakeBridge):
    bridge.answer(201, {"id": "ap-1"})
    params = {"amount": {"value": 7, "schema": {"type": "integer"}}}
    task = SimpleNamespace(
        subject="Deploy?",
        body=None,
        options=["Approve", "Reject"],
        serialized_params=params,
        response_timeout=None,
    )
    ctx = context(task=task)
    BridgeRegistrationNotifier().notify(ctx)
    # The id the push got: a later task can tell the push registered it, and find the same approval.
    ctx["ti"].xcom_push.assert_called_once_with(key=APPROVAL_ID_KEY, value="ap-1")
    [call] = bridge.calls
    assert (call.method, call.path, call.headers["authorization"]) == (
        "POST",
        "/api/v1/approvals",
        "Bearer svc-token",
    )
    assert json.loads(call.body) == {
        **REGISTRATION,
        "values": {"amount": 7},
        "params": params,
        "timeout_at": None,
    }


def test_the_notifier_sends_airflows_response_timeout_as_an_instant(bridge: FakeBridge):
    bridge.answer(201, {"id": "ap-1"})
    task = SimpleNamespace(
        subject="Deploy?",
        body=None,
        options=["Approve"],
        serialized_params={},
        response_timeout=timedelta(hours=24),
    )
    with mock.patch("airgate.notifiers.bridge.utcnow", return_value=RUN_AFTER):
        BridgeRegistrationNotifier().notify(context(task=task))
    assert json.loads(bridge.calls[0].body)["timeout_at"] == "2026-11-26T10:00:00.123456+00:00"


def test_a_bridge_that_refuses_the_notifier_does_not_fail_the_task(bridge: FakeBridge):
    bridge.answer(503, {"error": {"code": "unavailable", "message": "starting"}})
    task = SimpleNamespace(
        subject="Deploy?", body=None, options=["Approve"], serialized_params={}, response_timeout=None
    )
    ctx = context(task=task)
    BridgeRegistrationNotifier().notify(ctx)
    assert len(bridge.calls) == 1
    # No id: the reconcile loop registers the request once the bridge answers.
    ctx["ti"].xcom_push.assert_not_called()


def test_request_registers_an_external_approval_with_its_signals(bridge: FakeBridge):
    bridge.answer(201, {"id": "ap-1"})
    operator = RequestApprovalOperator(
        task_id="request_approval",
        subject="Deploy?",
        signals=[trigger_dag(), FILE_SIGNAL, asset_event(Asset(name="a", uri="airgate://approvals/x"))],
    )
    ctx = context()
    assert operator.execute(ctx) == "ap-1"
    [call] = bridge.calls
    assert (call.path, call.headers["authorization"]) == ("/api/v1/approvals", "Bearer svc-token")
    assert json.loads(call.body) == {
        **REGISTRATION,
        "external": True,
        "signals": [
            # No logical date: the signal run is found by its run id (ApprovalSignalRunSensor).
            {"kind": "trigger_dag", "dag_id": SIGNAL_DAG_ID},
            {"kind": "file"},
            {"kind": "asset_event", "uri": "airgate://approvals/x"},
        ],
    }
    assert ctx["ti"].xcom_push.call_args.kwargs["key"] == REQUESTED_AT_KEY


def test_a_failed_registration_fails_the_request(bridge: FakeBridge):
    bridge.answer(503, {"error": {"code": "unavailable", "message": "starting"}})
    operator = RequestApprovalOperator(task_id="request_approval", subject="Deploy?")
    ctx = context(RUN_AFTER)
    with pytest.raises(requests.HTTPError, match="503"):
        operator.execute(ctx)
    ctx["ti"].xcom_push.assert_not_called()
