"""120_09_02_high_availability with airgate.testing: the paths that reached people, and both stores checked."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.exceptions import AirflowException

from airgate import APPROVAL_ID_KEY
from airgate.testing import approve, reject, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_09_02_high_availability"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def slack_down_email_takes_over(bridge: Any, *people: str) -> None:
    for person in people:
        bridge.deliver("approve_payout", "messages", recipient=person)
        slack = bridge.deliver(
            "approve_payout",
            "slack",
            recipient=person,
            state="failed",
            attempts=3,
            last_error="internal_error",
        )
        bridge.deliver("approve_payout", "email", recipient=person, after=4, fallback_of=slack)


def test_an_approval_reached_through_the_fallback_is_verified_in_both_stores(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    slack_down_email_takes_over(airgate_bridge, "bob", "carol")
    result = dag_test(dag, {"approve_payout": approve(by="bob")})

    assert result.state == "success"
    assert result.tasks["release_payout"] == "success"
    verified = result.xcom("verify_state")
    assert verified["approval_id"] == result.xcom("approve_payout", APPROVAL_ID_KEY)
    assert (verified["registered_by"], verified["agreed"], verified["deciders"]) == (
        "push",
        {"state": "approved", "option": "Approve"},
        ["bob"],
    )
    assert verified["notification_paths"] == {
        person: {"messages": "sent", "slack": "failed", "email": "sent"} for person in ("bob", "carol")
    }
    assert verified["failovers"] == [
        {
            "recipient": person,
            "from": "slack",
            "to": "email",
            "attempts": 3,
            "error": "internal_error",
            "delivered": True,
        }
        for person in ("bob", "carol")
    ]
    assert verified["verified_by_try"] == 1


def test_a_rejection_skips_the_release_and_is_verified_too(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_payout": reject(by="carol", reason="duplicate payee")})

    assert result.tasks["release_payout"] == "skipped"
    assert result.xcom("verify_state")["agreed"] == {"state": "rejected", "option": "Reject"}


def _ti(answer: dict[str, Any] | None, pushed_id: str | None) -> SimpleNamespace:
    xcoms = {"return_value": answer, APPROVAL_ID_KEY: pushed_id}
    return SimpleNamespace(
        dag_id=DAG_ID,
        run_id="manual__1",
        try_number=2,
        xcom_pull=lambda task_ids, key="return_value": xcoms[key],
    )


def test_verify_state_fails_when_the_stores_disagree(dag: Any, airgate_bridge: Any) -> None:
    verify = dag.get_task("verify_state").python_callable
    approval_id = airgate_bridge.register(
        {"dag_id": DAG_ID, "run_id": "manual__1", "task_id": "approve_payout"}
    )
    answered_by_timeout = {"chosen_options": ["Reject"], "responded_by_user": None}
    # Airflow's own timeout answered while the bridge still waits: not a state to build on.
    airgate_bridge.decide(DAG_ID, "manual__1", "approve_payout", timeout())
    with pytest.raises(AirflowException, match="pending, not final"):
        verify(ti=_ti(answered_by_timeout, approval_id))

    airgate_bridge.decide(DAG_ID, "manual__1", "approve_payout", approve(by="bob"))
    approved = {"chosen_options": ["Approve"], "responded_by_user": {"id": "airgate", "name": "airgate"}}
    with pytest.raises(AirflowException, match="the push registered ap-other"):
        verify(ti=_ti(approved, "ap-other"))
    # A retry (try 2) finds the same approval, here registered by the reconcile loop: no id was pushed.
    assert verify(ti=_ti(approved, None))["approval_id"] == approval_id
