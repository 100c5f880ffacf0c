"""Decision receipts: ``airgate verify-receipt`` checks them offline, and the operators keep them in XCom."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import requests
from airflow.dag_processing.dagbag import DagBag

from airgate import SERVICE_ACCOUNT, AirgateApprovalOperator
from airgate.cli import FAILED, INVALID, VALID, main
from airgate.receipts import RECEIPT_XCOM_KEY, ReceiptInvalid, content_digest, verify_receipt
from airgate.testing import approve
from airgate.testing.bridge import SimulatedBridge, simulated_bridge

from conftest import DAGS_FOLDER

ASK = {
    "dag_id": "d",
    "run_id": "r",
    "task_id": "gate",
    "try_number": 1,
    "subject": "Ship?",
    "body": "Release notes",
    "options": ["Approve", "Reject"],
    "params": {},
}
KEY = ("d", "r", "gate", -1)


def answer(option: str) -> dict[str, Any]:
    return {
        "chosen_options": [option],
        "params_input": {},
        "responded_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "responded_by_user": {"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT},
    }


def decided(bridge: SimulatedBridge, decision: Any = None) -> dict[str, Any]:
    requests.post(f"{bridge.url}/api/v1/approvals", json=ASK, timeout=5)
    bridge.decide("d", "r", "gate", decision or approve(by="bob", reason="notes read"))
    receipt = requests.get(
        f"{bridge.url}/api/v1/signals/receipts",
        params={"dag_id": "d", "run_id": "r", "task_id": "gate"},
        timeout=5,
    )
    assert receipt.status_code == 200, receipt.text
    found: dict[str, Any] = receipt.json()
    return found


@pytest.fixture
def files(tmp_path: Path, airgate_bridge: SimulatedBridge) -> tuple[Path, Path, dict[str, Any]]:
    receipt = decided(airgate_bridge)
    (tmp_path / "receipt.jws").write_text(receipt["receipt"] + "\n")
    (tmp_path / "jwks.json").write_text(json.dumps(airgate_bridge.jwks()))
    return tmp_path / "receipt.jws", tmp_path / "jwks.json", receipt


def test_the_simulated_bridge_signs_what_the_bridge_signs(airgate_bridge: SimulatedBridge):
    pending = requests.post(f"{airgate_bridge.url}/api/v1/approvals", json=ASK, timeout=5)
    assert pending.status_code == 201
    early = requests.get(
        f"{airgate_bridge.url}/api/v1/signals/receipts",
        params=dict(zip(("dag_id", "run_id", "task_id"), KEY, strict=False)),
        timeout=5,
    )
    assert (early.status_code, early.json()["error"]["code"]) == (404, "no_receipt")
    receipt = decided(airgate_bridge)
    kid, payload = verify_receipt(
        receipt["receipt"], requests.get(f"{airgate_bridge.url}/.well-known/jwks.json", timeout=5).json()
    )
    assert kid == receipt["kid"] == airgate_bridge.jwks()["keys"][0]["kid"]
    assert payload == receipt["payload"]
    digest = content_digest(ASK)
    assert (payload["content_digest"], payload["outcome"]["state"], payload["outcome"]["option"]) == (
        digest,
        "approved",
        "Approve",
    )
    assert [(v["user"], v["reason"], v["content_digest"]) for v in payload["votes"]] == [
        ("bob", "notes read", digest)
    ]


def test_content_digest_is_the_bridges(airgate_bridge: SimulatedBridge):
    # bridge/src/approvals/content.ts gives this digest for the same content (its keys sorted, no spaces).
    content = {**ASK, "params": {"batch": {"value": 10, "schema": {"type": "integer"}}}, "body": "Größe"}
    reviewed = {
        k: content[k]
        for k in ("dag_id", "run_id", "task_id", "try_number", "subject", "body", "options", "params")
    }
    canonical = json.dumps(
        {**reviewed, "map_index": -1}, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    assert canonical.startswith(
        '{"body":"Größe","dag_id":"d","map_index":-1,"options":["Approve","Reject"],"params":{"batch":{"schema"'
    )
    assert content_digest(content).startswith("sha256:") and len(content_digest(content)) == 71
    assert content_digest(content) != content_digest({**content, "try_number": 2})


def test_verify_receipt_accepts_a_valid_receipt_and_prints_the_decision(files, capsys):
    receipt_file, jwks_file, receipt = files
    assert main(["verify-receipt", str(receipt_file), "--jwks", str(jwks_file)]) == VALID
    out = capsys.readouterr().out
    assert (
        out.splitlines()[0]
        == f"valid receipt, signed by key {receipt['kid']} of {receipt['payload']['issuer']}"
    )
    assert f"approval {receipt['payload']['approval_id']}: approved (Approve)" in out
    assert "task d/r/gate, try 1" in out
    assert "Approve by bob via ui" in out
    # The JSON the bridge answers (and the XCom holds) works as well as the bare JWS.
    receipt_file.write_text(json.dumps(receipt))
    assert main(["verify-receipt", str(receipt_file), "--jwks", str(jwks_file)]) == VALID


def test_verify_receipt_takes_the_jwks_from_a_url_or_the_environment(
    files, airgate_bridge, monkeypatch, capsys
):
    receipt_file, _, _ = files
    assert (
        main(["verify-receipt", str(receipt_file), "--jwks", f"{airgate_bridge.url}/.well-known/jwks.json"])
        == VALID
    )
    monkeypatch.setenv("AIRGATE_JWKS", f"{airgate_bridge.url}/.well-known/jwks.json")
    assert main(["verify-receipt", str(receipt_file)]) == VALID


def test_a_tampered_payload_is_refused_with_the_reason(files, capsys):
    receipt_file, jwks_file, receipt = files
    header, payload, signature = receipt["receipt"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["outcome"] = {**claims["outcome"], "option": "Reject", "state": "rejected"}
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    receipt_file.write_text(f"{header}.{forged}.{signature}")
    assert main(["verify-receipt", str(receipt_file), "--jwks", str(jwks_file)]) == INVALID
    err = capsys.readouterr().err
    assert err == "invalid receipt: bad signature: the receipt was altered or not signed by that key\n"


def test_a_key_the_set_does_not_hold_is_refused(files, tmp_path, capsys):
    receipt_file, _, receipt = files
    with simulated_bridge() as other:
        (tmp_path / "other.json").write_text(json.dumps(other.jwks()))
    assert main(["verify-receipt", str(receipt_file), "--jwks", str(tmp_path / "other.json")]) == INVALID
    assert capsys.readouterr().err == (
        f"invalid receipt: unknown key id '{receipt['kid']}': the key set does not hold the key that signed it\n"
    )


def test_a_file_that_is_no_receipt_is_refused_and_one_that_cannot_be_read_fails(files, tmp_path, capsys):
    _, jwks_file, _ = files
    (tmp_path / "junk.txt").write_text("hello")
    assert main(["verify-receipt", str(tmp_path / "junk.txt"), "--jwks", str(jwks_file)]) == INVALID
    assert capsys.readouterr().err.startswith("invalid receipt: not a compact JWS")
    assert main(["verify-receipt", str(tmp_path / "missing.jws"), "--jwks", str(jwks_file)]) == FAILED
    assert "cannot read" in capsys.readouterr().err
    assert (
        main(["verify-receipt", str(tmp_path / "junk.txt"), "--jwks", str(tmp_path / "junk.txt")]) == FAILED
    )
    assert "cannot read the key set" in capsys.readouterr().err


def test_another_token_signed_by_the_same_key_is_no_receipt(airgate_bridge: SimulatedBridge):
    import jwt

    token = jwt.PyJWS().encode(b"{}", airgate_bridge._receipt_key, algorithm="EdDSA", headers={"kid": "k"})
    with pytest.raises(ReceiptInvalid, match="not an airgate receipt"):
        verify_receipt(token, airgate_bridge.jwks())


def ti(**fields: Any) -> mock.Mock:
    return mock.Mock(dag_id="d", run_id="r", task_id="gate", map_index=-1, **fields)


def test_the_operator_keeps_the_receipt_in_xcom_once_decided(airgate_bridge: SimulatedBridge):
    receipt = decided(airgate_bridge, approve(by="carol", reason="fine"))
    op = AirgateApprovalOperator(task_id="gate", subject="Ship?")
    instance = ti()
    assert op.execute_complete({"ti": instance, "task": op}, answer("Approve")) == answer("Approve")
    instance.xcom_push.assert_called_once_with(key=RECEIPT_XCOM_KEY, value=receipt)
    assert verify_receipt(receipt["receipt"], airgate_bridge.jwks())[1]["votes"][0]["user"] == "carol"


def test_an_unreachable_bridge_costs_the_receipt_not_the_task(monkeypatch, caplog):
    conn = {"conn_type": "http", "host": "http://127.0.0.1:9", "password": "svc"}
    monkeypatch.setenv("AIRFLOW_CONN_AIRGATE_BRIDGE", json.dumps(conn))
    op = AirgateApprovalOperator(task_id="gate", subject="Ship?")
    instance = ti()
    with caplog.at_level(logging.WARNING, logger="airgate.operators.hitl"):
        assert op.execute_complete({"ti": instance, "task": op}, answer("Approve")) == answer("Approve")
    instance.xcom_push.assert_not_called()
    assert "could not read the decision's receipt" in caplog.text


def test_no_receipt_yet_pushes_nothing(airgate_bridge: SimulatedBridge, caplog):
    requests.post(f"{airgate_bridge.url}/api/v1/approvals", json=ASK, timeout=5)
    op = AirgateApprovalOperator(task_id="gate", subject="Ship?")
    instance = ti()
    with caplog.at_level(logging.WARNING, logger="airgate.operators.hitl"):
        op.execute_complete({"ti": instance, "task": op}, answer("Approve"))
    instance.xcom_push.assert_not_called()
    assert "holds no receipt" in caplog.text


def test_a_dag_run_keeps_its_gates_receipt(dag_test: Any, airgate_bridge: SimulatedBridge):
    dag_id = "120_01_01_approval_basics"
    dag = DagBag(dag_folder=str(DAGS_FOLDER / f"{dag_id}.py")).dags[dag_id]
    result = dag_test(dag, {"approve_load": approve(by="bob", reason="report checked")})
    kept = result.xcom("approve_load", key=RECEIPT_XCOM_KEY)
    _, payload = verify_receipt(kept["receipt"], airgate_bridge.jwks())
    assert (payload["dag_id"], payload["task_id"], payload["outcome"]["state"]) == (
        dag_id,
        "approve_load",
        "approved",
    )
    assert payload["content_digest"] == content_digest(
        {**airgate_bridge.registration("approve_load"), "try_number": payload["try_number"]}
    )
