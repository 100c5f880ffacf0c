"""The kit's stand-ins behave like the bridge where DAGs read it: one approval per try, its store, its metrics."""

from __future__ import annotations

import re

import requests

from airgate import approval_status, approval_tries, bridge_metrics
from airgate.testing import approve, reject, timeout
from airgate.testing.dag_test import decision_of

from conftest import REPO_ROOT

ASK = {
    "dag_id": "d",
    "run_id": "r",
    "task_id": "gate",
    "map_index": -1,
    "timeout_at": "2026-01-02T03:30:00+00:00",
}


def test_a_retry_asks_anew_and_the_earlier_try_is_closed_as_the_bridge_closes_an_orphan(airgate_bridge):
    first = requests.post(f"{airgate_bridge.url}/api/v1/approvals", json={**ASK, "try_number": 1}, timeout=5)
    status = approval_status("d", "r", "gate")
    assert status is not None
    assert (status["state"], status["try_number"], status["due_at"]) == ("pending", 1, ASK["timeout_at"])
    assert [(a["try_number"], a["state"]) for a in approval_tries("d", "r", "gate")] == [(1, "pending")]

    second = requests.post(f"{airgate_bridge.url}/api/v1/approvals", json={**ASK, "try_number": 2}, timeout=5)
    assert second.json()["id"] != first.json()["id"]
    airgate_bridge.decide("d", "r", "gate", approve(by="bob"))

    tries = approval_tries("d", "r", "gate")
    assert [(a["approval_id"], a["try_number"], a["state"]) for a in tries] == [
        (first.json()["id"], 1, "cancelled"),
        (second.json()["id"], 2, "approved"),
    ]
    assert (tries[1]["option"], tries[1]["votes"]) == ("Approve", 1) and tries[1]["decided_at"]
    assert tries[0]["option"] is None and tries[0]["decided_at"]
    status = approval_status("d", "r", "gate")
    assert status is not None and (status["approval_id"], status["try_number"]) == (second.json()["id"], 2)


def test_the_simulated_metrics_carry_the_bridges_own_names(airgate_bridge):
    for task_id, decision in (("a", approve(by="bob")), ("b", reject(by="carol")), ("c", timeout())):
        requests.post(f"{airgate_bridge.url}/api/v1/approvals", json={**ASK, "task_id": task_id}, timeout=5)
        airgate_bridge.decide("d", "r", task_id, decision)
    families = bridge_metrics()
    registry = (REPO_ROOT / "bridge" / "src" / "metrics" / "registry.ts").read_text()
    assert set(families) <= set(re.findall(r"name: '(airgate_\w+)'", registry))
    assert families["airgate_approvals_pending"]["samples"] == [{"labels": {}, "value": 1.0}]
    assert {s["labels"]["state"]: s["value"] for s in families["airgate_decisions_total"]["samples"]} == {
        "approved": 1.0,
        "rejected": 1.0,
    }


def test_a_list_of_decisions_answers_one_try_each():
    first, second, own = timeout(), approve(), reject()
    given = {"gate": [first, second], ("gate", 3): own}
    assert decision_of(given, "gate", -1, 0) is first
    assert decision_of(given, "gate", -1, 1) is second
    assert decision_of(given, "gate", -1, 2) is None
    assert decision_of(given, "gate", 3, 5) is own
