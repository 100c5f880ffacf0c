"""120_10_03_financial_approval with airgate.testing: screened, routed by amount, paid or blocked, filed with evidence."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_10_03_financial_approval"


def payment(
    amount: float, beneficiary: str = "Northwind Ltd", reference: str = "INV-2026-0042"
) -> dict[str, Any]:
    """A whole conf: a run's conf is merged over the DAG's params, so each test names every field."""
    return {"amount": amount, "beneficiary": beneficiary, "reference": reference, "seed": 42}


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


@pytest.fixture(autouse=True)
def airflow_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    return tmp_path


def ledger(home: Path) -> list[tuple[str, float, str, str]]:
    with sqlite3.connect(home / "airgate-120_10_03" / "ledger.db") as db:
        rows = db.execute("SELECT beneficiary, amount, status, route FROM payment WHERE run_id != 'history'")
        return [tuple(row) for row in rows]


def test_a_large_payment_is_decided_at_two_levels_and_filed_with_its_evidence(
    dag: Any, dag_test: Any, airgate_bridge: Any, airflow_home: Path
) -> None:
    result = dag_test(dag, {"approve_payment": approve(by=["carol", "admin"])}, run_conf=payment(25_000))

    screening = result.xcom("screen_payment")
    assert screening["route"] == "people"
    assert [c["check"] for c in screening["checks"]] == ["sanctions", "duplicate", "daily_limit"]
    assert all(c["passed"] for c in screening["checks"][:2])
    assert result.tasks["auto_approve"] == "skipped" and result.tasks["block_payment"] == "skipped"
    assert result.xcom("execute_payment") == {"paid": 25_000.0, "route": "people", "booked": 1}
    assert ledger(airflow_home) == [("Northwind Ltd", 25_000.0, "paid", "people")]
    # The reviewer sees the measured figures.
    body = airgate_bridge.registration("approve_payment")["body"]
    assert (
        "**25,000.00 EUR** to **Northwind Ltd**" in body
        and "| sanctions | ✅ | closest listed entity" in body
    )

    evidence = result.xcom("file_audit_evidence")
    assert evidence["deciders_by_level"] == {"1": ["carol"], "2": ["admin"]}
    assert evidence | {"evidence_file": None} == evidence | {
        "route": "people",
        "chain_ok": True,
        "one_level_per_person": True,
        "requester_decided": False,
        "evidence_file": None,
    }
    filed = json.loads(Path(evidence["evidence_file"]).read_text())
    assert filed["evidence"]["count"] == evidence["entries"] == 4  # registered, two votes, decided


def test_a_rejected_payment_is_not_paid_and_still_filed(dag: Any, dag_test: Any, airflow_home: Path) -> None:
    result = dag_test(
        dag, {"approve_payment": reject(by="bob", reason="no purchase order")}, run_conf=payment(4_000)
    )

    assert result.tasks["execute_payment"] == "skipped"
    assert ledger(airflow_home) == []
    evidence = result.xcom("file_audit_evidence")
    assert evidence["outcome"] == {"state": "rejected", "option": "Reject"}
    assert evidence["deciders_by_level"] == {"1": ["bob"]}


def test_a_small_clean_payment_needs_nobody(
    dag: Any, dag_test: Any, airgate_bridge: Any, airflow_home: Path
) -> None:
    result = dag_test(dag, {}, run_conf=payment(420))

    assert result.tasks["auto_approve"] == "success"
    assert result.tasks["approve_payment"] == "skipped"
    assert result.xcom("execute_payment") == {"paid": 420.0, "route": "auto", "booked": 1}
    assert result.xcom("file_audit_evidence") == {"route": "auto", "approval": None}
    assert airgate_bridge.registrations == []


def test_a_sanctioned_beneficiary_is_blocked_before_anyone_is_asked(
    dag: Any, dag_test: Any, airgate_bridge: Any, airflow_home: Path
) -> None:
    result = dag_test(dag, {}, run_conf=payment(420, "Ocean-Star Trading Ltd."))

    screening = result.xcom("screen_payment")
    assert screening["blocked"] == ["sanctions"]
    assert "Ocean Star Trading" in screening["checks"][0]["measured"]
    assert result.xcom("block_payment") == {"blocked_by": ["sanctions"]}
    assert result.tasks["execute_payment"] == "skipped" and result.tasks["approve_payment"] == "skipped"
    assert ledger(airflow_home) == [("Ocean-Star Trading Ltd.", 420.0, "blocked", "block")]
    assert airgate_bridge.registrations == []


def test_paying_the_same_invoice_twice_is_blocked_as_a_duplicate(dag: Any, dag_test: Any) -> None:
    conf = payment(3_000, reference="INV-7")
    dag_test(dag, {"approve_payment": approve(by="carol")}, run_conf=conf)
    again = dag_test(dag, {"approve_payment": approve(by="carol")}, run_conf=conf)

    assert again.xcom("screen_payment")["blocked"] == ["duplicate"]
    assert again.tasks["execute_payment"] == "skipped"
