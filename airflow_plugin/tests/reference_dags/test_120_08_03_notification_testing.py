"""120_08_03_notification_testing with airgate.testing: the request the DAG registers (what every notification is
rendered from) and each answer a channel can bring back. The rendered Slack and email payloads are the bridge's:
they are checked against its own templates on the real stack (test/integration/testing-workflows.test.ts)."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import choose, timeout

from conftest import DAGS_FOLDER

DAG_ID = "120_08_03_notification_testing"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_the_registered_request_carries_what_the_notifications_show(
    dag: Any, dag_test: Any, airgate_bridge: Any
) -> None:
    dag_test(dag, {"approve_release": choose("Ship", by="admin", channel="slack")})

    sent = airgate_bridge.registration("approve_release")
    assert sent["subject"] == "Ship notifier 5.0.1?"
    assert sent["options"] == ["Ship", "Hold"]
    # The text as written: escaping is each channel's business (mrkdwn for Slack, HTML for email).
    assert sent["body"].splitlines() == [
        "3 changes (fix: 2, feature: 1)",
        "- Escape <script> & quotes in report titles",
        "- Export more than 10 000 rows (> 1 page)",
        "- Retry the webhook on HTTP 503",
    ]


def test_ship_from_slack_ships(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_release": choose("Ship", by="admin", channel="slack")})

    assert result.state == "success"
    assert result.followed("approve_release") == ["ship_release"]
    assert result.tasks["hold_release"] == "skipped"
    assert result.xcom("ship_release") == "shipped notifier 5.0.1"
    assert result.xcom("record_decision")["deciders"][0]["channel"] == "slack"


def test_hold_from_email_holds_with_the_reason(dag: Any, dag_test: Any) -> None:
    hold = choose("Hold", by="bob", reason="changelog incomplete", state="rejected", channel="email")
    result = dag_test(dag, {"approve_release": hold})

    assert result.tasks["ship_release"] == "skipped"
    assert result.xcom("hold_release") == "held notifier 5.0.1"
    record = result.xcom("record_decision")
    assert (record["state"], record["deciders"][0]["reason"], record["deciders"][0]["channel"]) == (
        "rejected",
        "changelog incomplete",
        "email",
    )


def test_no_answer_through_any_channel_holds(dag: Any, dag_test: Any) -> None:
    result = dag_test(dag, {"approve_release": timeout()})

    assert result.followed("approve_release") == ["hold_release"]
    assert result.xcom("record_decision")["answered_by"] is None
