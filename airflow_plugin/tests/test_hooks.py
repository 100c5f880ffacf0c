"""The bridge hook: one HTTP stack on the ``airgate_bridge`` connection, service token by default."""

from __future__ import annotations

import json
from unittest import mock

import pytest
import requests

from airgate import BridgeHook, approval_status, escalations_of

from conftest import FakeBridge


def test_registration_posts_json_with_the_service_token(bridge: FakeBridge):
    bridge.answer(201, {"id": "ap-1"})
    assert BridgeHook().register_approval({"dag_id": "d", "task_id": "t"}) == "ap-1"
    [call] = bridge.calls
    assert (call.method, call.path) == ("POST", "/api/v1/approvals")
    assert call.headers["authorization"] == "Bearer svc-token"
    assert json.loads(call.body) == {"dag_id": "d", "task_id": "t"}


def test_a_refused_registration_raises(bridge: FakeBridge):
    bridge.answer(401, {"error": {"code": "unauthorized", "message": "bad token"}})
    with pytest.raises(requests.HTTPError, match="401"):
        BridgeHook().register_approval({"dag_id": "d"})


def test_approval_status_is_none_until_the_bridge_knows_the_approval(bridge: FakeBridge):
    bridge.answer(404, {"error": {"code": "not_found", "message": "no approval"}})
    assert approval_status("d", "r", "t") is None
    bridge.answer(401, {"error": {"code": "unauthorized", "message": "bad token"}})
    with pytest.raises(requests.HTTPError, match="401"):
        approval_status("d", "r", "t")
    bridge.answer(200, {"state": "approved"})
    assert approval_status("d", "manual__1+00:00", "t") == {"state": "approved"}
    assert bridge.calls[-1].path == "/api/v1/signals/approvals?dag_id=d&run_id=manual__1%2B00%3A00&task_id=t"


def test_a_persons_token_replaces_the_service_token(bridge: FakeBridge):
    BridgeHook().call("GET", "/api/v1/approvals", token="alice-jwt")
    assert bridge.calls[0].headers["authorization"] == "Bearer alice-jwt"


def test_redirects_are_answered_not_followed(bridge: FakeBridge):
    bridge.answer(302, b"")
    bridge.headers = {"Location": "/metrics"}
    assert BridgeHook().call("GET", "/api/v1/docs").status_code == 302
    assert [c.path for c in bridge.calls] == ["/api/v1/docs"]


def test_the_escalation_chain_is_read_with_the_service_token_and_empty_until_the_bridge_knows_the_approval(
    bridge: FakeBridge,
):
    ti = mock.Mock(dag_id="d", run_id="manual__1+00:00")
    bridge.answer(404, {"error": {"code": "not_found", "message": "no approval"}})
    assert escalations_of(ti, "gate") == []
    step = {
        "level": 1,
        "step": 0,
        "approver": "carol",
        "reason": "escalation step 1",
        "at": "2026-01-02T03:00:08Z",
    }
    bridge.answer(200, {"items": [step]})
    assert escalations_of(ti, "gate") == [step]
    call = bridge.calls[-1]
    assert call.path == "/api/v1/signals/escalations?dag_id=d&run_id=manual__1%2B00%3A00&task_id=gate"
    assert call.headers["authorization"] == "Bearer svc-token"
