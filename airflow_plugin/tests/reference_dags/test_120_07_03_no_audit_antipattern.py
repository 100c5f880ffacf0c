"""120_07_03_no_audit_antipattern with airgate.testing: the conf flag answers none of an auditor's questions, the
audited gate answers all of them, and a self-approval or a missing reason is caught."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate import ApprovalSignal
from airgate.testing import approve, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_07_03_no_audit_antipattern"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def accountability_of(dag: Any) -> Any:
    return dag.get_task("accountability").python_callable.__globals__["accountability_of"]


def status(user: str, reason: str | None) -> ApprovalSignal:
    return ApprovalSignal(
        approval_id="a1",
        dag_id=DAG_ID,
        run_id="r",
        task_id="audited_gate",
        map_index=-1,
        try_number=1,
        state="approved",
        option="Approve",
        params_input={},
        policy="no-audit-fix",
        decided_at="2026-01-01T00:00:00Z",
        deciders=[
            {
                "user": user,
                "option": "Approve",
                "reason": reason,
                "channel": "ui",
                "at": "2026-01-01T00:00:00Z",
            }
        ],
    )


def test_the_flag_answers_nothing_and_the_gate_everything(dag: Any, dag_test: Any) -> None:
    result = dag_test(
        dag,
        {"audited_gate": approve(by="bob", reason="quarterly rotation")},
        run_conf={"approved": True},
    )

    assert result.state == "success"
    assert result.tasks["apply_unaudited"] == result.tasks["apply_audited"] == "success"
    answers = result.xcom("accountability")
    assert answers["check_flag"]["answered"] == 0
    assert answers["audited_gate"] == {
        "answered": 5,
        "of": 5,
        "who": True,
        "when": True,
        "why": True,
        "not_the_requester": True,
        "system_of_record": True,
    }


def test_without_the_flag_only_the_audited_path_runs(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"audited_gate": reject(by="carol", reason="not during the freeze")})

    assert result.tasks["apply_unaudited"] == "skipped"
    assert result.tasks["apply_audited"] == "skipped"
    assert result.tasks["accountability"] == "success"
    assert result.xcom("accountability")["audited_gate"]["answered"] == 5


@pytest.mark.parametrize(
    ("given", "requester", "unanswered"),
    [
        (None, "alice", {"who", "when", "why", "not_the_requester", "system_of_record"}),
        (status("alice", "fine by me"), "alice", {"not_the_requester"}),
        (status("bob", None), "alice", {"why"}),
    ],
    ids=["no-record", "self-approval", "no-reason"],
)
def test_each_gap_is_named(
    dag: Any, given: ApprovalSignal | None, requester: str, unanswered: set[str]
) -> None:
    answers = accountability_of(dag)(given, requester)
    assert {
        q for q in ("who", "when", "why", "not_the_requester", "system_of_record") if not answers[q]
    } == unanswered
    assert answers["answered"] == 5 - len(unanswered)
