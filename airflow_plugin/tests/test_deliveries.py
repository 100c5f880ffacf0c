"""How an approval reached people: the bridge's deliveries, read with the service token, real and simulated."""

from __future__ import annotations

import json
from datetime import datetime
from unittest import mock
from urllib.request import urlopen

import pytest
import requests

from airgate import deliveries_of
from airgate.testing import SimulatedBridge, approve, simulated_bridge

from conftest import FakeBridge

SLACK_FAILED = {
    "id": 2,
    "recipient": "bob",
    "channel": "slack",
    "address": None,
    "state": "failed",
    "attempts": 3,
    "last_error": "slack answered 503",
    "created_at": "2026-01-02T03:00:00Z",
    "sent_at": None,
    "next_attempt_at": "2026-01-02T03:00:04Z",
    "fallback_of": None,
}


def test_deliveries_are_read_with_the_service_token_and_empty_until_the_bridge_knows_the_approval(
    bridge: FakeBridge,
):
    ti = mock.Mock(dag_id="d", run_id="manual__1+00:00")
    bridge.answer(404, {"error": {"code": "not_found", "message": "no approval"}})
    assert deliveries_of(ti, "gate") == []
    bridge.answer(200, {"approval_id": "ap-1", "items": [SLACK_FAILED]})
    assert deliveries_of(ti, "gate") == [SLACK_FAILED]
    call = bridge.calls[-1]
    assert call.path == "/api/v1/signals/deliveries?dag_id=d&run_id=manual__1%2B00%3A00&task_id=gate"
    assert call.headers["authorization"] == "Bearer svc-token"
    bridge.answer(401, {"error": {"code": "unauthorized", "message": "bad token"}})
    with pytest.raises(requests.HTTPError, match="401"):
        deliveries_of(ti, "gate")


def _get(bridge: SimulatedBridge, path: str) -> dict:
    with urlopen(f"{bridge.url}{path}") as response:
        answer: dict = json.loads(response.read())
    return answer


def test_the_simulated_bridge_times_its_deliveries_from_the_registration():
    with simulated_bridge() as bridge:
        slack = bridge.deliver("gate", "slack", state="failed", attempts=3, last_error="slack answered 503")
        bridge.deliver("gate", "email", after=2.5, fallback_of=slack)
        approval_id = bridge.register({"dag_id": "d", "run_id": "r", "task_id": "gate"})

        answer = _get(bridge, "/api/v1/signals/deliveries?dag_id=d&run_id=r&task_id=gate")

    assert answer["approval_id"] == approval_id
    failed, email = answer["items"]
    assert (failed["channel"], failed["state"], failed["sent_at"]) == ("slack", "failed", None)
    assert (email["channel"], email["fallback_of"]) == ("email", slack)
    delay = datetime.fromisoformat(email["sent_at"]) - datetime.fromisoformat(email["created_at"])
    assert delay.total_seconds() == 2.5


def test_an_external_approval_is_decided_as_it_registers_by_its_planned_decision():
    decision = approve(by="carol")
    with simulated_bridge() as bridge:
        bridge.plan(lambda task_id, map_index: decision if task_id == "request" else None)
        bridge.register({"dag_id": "d", "run_id": "r", "task_id": "request", "external": True})
        bridge.register({"dag_id": "d", "run_id": "r", "task_id": "other", "external": True})

        decided = _get(bridge, "/api/v1/signals/approvals?dag_id=d&run_id=r&task_id=request")
        waiting = _get(bridge, "/api/v1/signals/approvals?dag_id=d&run_id=r&task_id=other")

    assert (decided["state"], decided["deciders"][0]["user"]) == ("approved", "carol")
    # The vote is cast when the bridge records it, after the question: not when the test built the decision.
    assert decided["deciders"][0]["at"] > decision.deciders[0]["at"]
    assert waiting["state"] == "pending"
