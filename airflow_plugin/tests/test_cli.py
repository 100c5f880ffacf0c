"""``airgate policies check``: the file and the DAGs folder's approval tasks go to the bridge; problems come back one a line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airgate.cli import main

from conftest import FakeBridge

DAG_FILE = """
from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import DAG, Param

from airgate import AirgateApprovalOperator, RequestApprovalOperator

with DAG(
    "payments",
    schedule=None,
    tags=["finance"],
    default_args={"owner": "dave"},
    params={"amount": Param(2500, type="number")},
):
    AirgateApprovalOperator(
        task_id="approve", subject="Pay?", params={"note": Param("ok", type="string")}
    )
    RequestApprovalOperator(task_id="external", subject="Pay later?", options=["Yes", "No"])
    # Airflow's own HITL, answered by a named user: not the bridge's, so not checked.
    ApprovalOperator(task_id="native", subject="Native?", assigned_users=[{"id": "bob", "name": "bob"}])
"""

RESULT = {
    "policy": "finance",
    "policy_error": None,
    "policy_version": "abc",
    "policies": [],
    "levels": [],
    "deadline": None,
    "reminders": None,
    "escalations": [],
    "break_glass": None,
    "notifications": None,
    "reachable": True,
    "problems": [],
    "notes": [],
}


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "payments.py").write_text(DAG_FILE)
    (dags / "broken.py").write_text("from airflow.sdk import DAG\nraise RuntimeError('no such table')\n")
    policies = tmp_path / "policies.yaml"
    policies.write_text("version: 1\npolicies: []\n")
    return policies, dags


def check(bridge: FakeBridge, policies: Path, *extra: str) -> int:
    return main(["policies", "check", str(policies), "--bridge", bridge.url, "--token", "alice-jwt", *extra])


def test_sends_the_file_and_every_airgate_approval_task_with_a_persons_token(bridge, files, capsys):
    policies, dags = files
    bridge.answer(200, {"valid": True, "error": None, "version": "abc", "results": []})
    check(bridge, policies, "--dags", str(dags), "--requester", "alice")
    call = bridge.calls[0]
    assert (call.method, call.path, call.headers["authorization"]) == (
        "POST",
        "/api/v1/policies/check",
        "Bearer alice-jwt",
    )
    body = json.loads(call.body)
    assert body["policies"] == "version: 1\npolicies: []\n"
    assert body["source"] == str(policies)
    assert body["approvals"] == [
        {
            "dag_id": "payments",
            "task_id": "approve",
            "tags": ["finance"],
            "owners": ["dave"],
            "conf": {"amount": 2500},
            "params": {"note": "ok"},
            "options": ["Approve", "Reject"],
            "requester": "alice",
        },
        {
            "dag_id": "payments",
            "task_id": "external",
            "tags": ["finance"],
            "owners": ["dave"],
            "conf": {"amount": 2500},
            "params": {},
            "options": ["Yes", "No"],
            "requester": "alice",
        },
    ]
    check(bridge, policies, "--dags", str(dags), "--unattended")
    assert {a["requester"] for a in json.loads(bridge.calls[-1].body)["approvals"]} == {None}
    # Left out: the bridge takes the token's person as the requester.
    check(bridge, policies, "--dags", str(dags))
    assert all("requester" not in a for a in json.loads(bridge.calls[-1].body)["approvals"])


def test_exits_zero_when_every_task_has_a_reachable_policy(bridge, files, capsys):
    policies, _ = files
    results = [{**RESULT, "dag_id": "payments", "task_id": "approve"}]
    bridge.answer(200, {"valid": True, "error": None, "version": "abc", "results": results})
    assert check(bridge, policies) == 0
    assert "valid; 1 approval tasks, each with a policy whose quorum can be met" in capsys.readouterr().out


def test_one_line_per_problem_and_a_non_zero_exit(bridge, files, capsys):
    policies, dags = files
    unreachable = {
        **RESULT,
        "dag_id": "payments",
        "task_id": "approve",
        "reachable": False,
        "problems": ['level "pair": "pair" needs 3 of bob, carol'],
    }
    bridge.answer(200, {"valid": True, "error": None, "version": "abc", "results": [unreachable]})
    assert check(bridge, policies, "--dags", str(dags)) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{dags / 'broken.py'}: does not import: RuntimeError: no such table"
    assert lines[1:] == ['payments.approve: level "pair": "pair" needs 3 of bob, carol']


def test_an_invalid_file_is_one_line_with_its_location(bridge, files, capsys):
    policies, _ = files
    error = "policies.yaml:2:11: policies: list at least one policy"
    bridge.answer(200, {"valid": False, "error": error, "version": None, "results": []})
    assert check(bridge, policies) == 1
    assert capsys.readouterr().err.splitlines() == [f"invalid policies file: {error}"]


def test_a_refusal_or_a_missing_token_is_exit_two(bridge, files, capsys, monkeypatch):
    policies, _ = files
    bridge.answer(401, {"error": {"code": "unauthorized", "message": "bad token"}})
    assert check(bridge, policies) == 2
    assert "401" in capsys.readouterr().err
    monkeypatch.delenv("AIRGATE_TOKEN", raising=False)
    assert main(["policies", "check", str(policies), "--bridge", bridge.url]) == 2
    assert "--token" in capsys.readouterr().err


def test_the_hook_dry_runs_one_task_as_the_person(bridge):
    from airgate import BridgeHook

    bridge.answer(200, RESULT)
    assert (
        BridgeHook().dry_run(
            "payments", "approve", token="alice-jwt", conf={"amount": 25000}, unattended=True
        )
        == RESULT
    )
    [call] = bridge.calls
    assert (call.path, call.headers["authorization"]) == ("/api/v1/policies/dry-run", "Bearer alice-jwt")
    assert json.loads(call.body) == {
        "dag_id": "payments",
        "task_id": "approve",
        "map_index": -1,
        "conf": {"amount": 25000},
        "params": {},
        "options": [],
        "requester": None,
    }
