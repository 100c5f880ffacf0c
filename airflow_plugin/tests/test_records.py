"""The decision record a run keeps of an approval: Airflow's answer joined with the bridge's record."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

from airgate import REQUESTED_AT_KEY, decision_record, decision_record_of

from conftest import FakeBridge

BRIDGE = "http://bridge.example:8181/"
ASKED = "2026-01-02T03:00:00+00:00"
BOB = {
    "user": "bob",
    "option": "Approve",
    "reason": "checked",
    "channel": "email",
    "at": "2026-01-02T03:03:50Z",
}


def answer(option: str, by: str | None = "airgate") -> dict:
    return {
        "chosen_options": [option],
        "params_input": {"ticket": "CHG-1"},
        "responded_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "responded_by_user": {"id": by, "name": by} if by else None,
    }


def status(state: str, deciders: list[dict]) -> dict:
    return {
        "approval_id": "ap 1",
        "dag_id": "d",
        "run_id": "r",
        "task_id": "gate",
        "map_index": -1,
        "try_number": 1,
        "state": state,
        "option": "Approve" if state == "approved" else "Reject",
        "params_input": {},
        "policy": "approval-state",
        "decided_at": "2026-01-02T03:03:50Z",
        "deciders": deciders,
    }


def test_an_approval_decided_by_a_person_names_them_and_links_to_the_bridges_record():
    assert decision_record("gate", answer("Approve"), ASKED, status("approved", [BOB]), BRIDGE) == {
        "task_id": "gate",
        "approval_id": "ap 1",
        "state": "approved",
        "policy": "approval-state",
        "option": "Approve",
        "params_input": {"ticket": "CHG-1"},
        "requested_at": ASKED,
        "decided_at": "2026-01-02T03:04:00+00:00",
        "answered_by": "airgate",
        "deciders": [BOB],
        "record_url": "http://bridge.example:8181/api/v1/approvals/ap%201",
        "audit_url": "http://bridge.example:8181/api/v1/audit?approval_id=ap%201",
    }


def test_a_policy_deadline_rejects_with_nobody_deciding():
    record = decision_record("gate", answer("Reject"), ASKED, status("expired", []), BRIDGE)
    assert (record["state"], record["option"], record["answered_by"], record["deciders"]) == (
        "expired",
        "Reject",
        "airgate",
        [],
    )


def test_airflows_own_timeout_answers_as_nobody_while_the_bridge_still_waits():
    record = decision_record("gate", answer("Reject", by=None), ASKED, status("pending", []), BRIDGE)
    assert (record["state"], record["answered_by"]) == ("pending", None)


def test_without_an_answer_or_a_bridge_record_there_is_nothing_to_link_to():
    record = decision_record("gate", None, None, None, BRIDGE)
    assert record["state"] == "unknown"
    assert record["option"] is None and record["decided_at"] is None and record["deciders"] == []
    assert record["record_url"] is None and record["audit_url"] is None


def test_decision_record_of_reads_the_gates_xcoms_and_the_bridges_status_through_the_connection(
    bridge: FakeBridge,
):
    bridge.answer(200, status("approved", [BOB]))
    xcoms = {"return_value": answer("Approve"), REQUESTED_AT_KEY: ASKED}
    ti = mock.Mock(dag_id="d", run_id="r")
    ti.xcom_pull.side_effect = lambda task_ids, key="return_value": xcoms[key] if task_ids == "gate" else None
    record = decision_record_of(ti, "gate")
    [call] = bridge.calls
    assert call.path == "/api/v1/signals/approvals?dag_id=d&run_id=r&task_id=gate"
    assert (record["requested_at"], record["deciders"]) == (ASKED, [BOB])
    assert record["record_url"] == f"{bridge.url}/api/v1/approvals/ap%201"
