"""Gate passages and rollback status, as downstream tasks report them."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest

from airgate import count_outcome, gate_passage, rollback_status, sla_outcome

ASKED = "2026-01-02T03:00:00+00:00"


def decision(option: str, by: str | None, answered: datetime | str) -> dict:
    return {
        "chosen_options": [option],
        "params_input": {},
        "responded_at": answered,
        "responded_by_user": {"id": by, "name": by} if by else None,
    }


@pytest.fixture
def stats():
    with mock.patch("airgate.metrics.Stats") as stats:
        yield stats


def test_an_answered_gate_reports_outcome_and_wait(stats):
    passage = gate_passage(
        "quality_gate", decision("Approve", "airgate", datetime(2026, 1, 2, 3, 1, 30, tzinfo=UTC)), ASKED
    )
    assert passage == {
        "gate": "quality_gate",
        "outcome": "approve",
        "timed_out": False,
        "waited_seconds": 90.0,
        "bypassed_by": None,
    }
    stats.incr.assert_called_once_with("airgate.gate.quality_gate.approve")
    stats.timing.assert_called_once_with("airgate.gate.quality_gate.wait", 90_000.0)


def test_a_timeout_default_has_no_responder_and_options_become_metric_words(stats):
    passage = gate_passage("g", decision("Request changes", None, "2026-01-02T05:00:00+00:00"), ASKED)
    assert (passage["outcome"], passage["timed_out"], passage["waited_seconds"]) == (
        "request_changes",
        True,
        7200.0,
    )


def test_a_gate_that_never_asked(stats):
    assert gate_passage("g", None, None) == {
        "gate": "g",
        "outcome": "not_reached",
        "timed_out": False,
        "waited_seconds": None,
        "bypassed_by": None,
    }
    stats.incr.assert_called_once_with("airgate.gate.g.not_reached")
    stats.timing.assert_not_called()


def test_a_break_glass_bypass_is_counted_as_bypassed_with_who_broke_it(stats):
    answered = decision("Approve", "airgate", "2026-01-02T03:00:20+00:00")
    status = {
        "state": "bypassed",
        "deciders": [
            {"user": "bob", "option": "Approve", "reason": "fine", "channel": "ui", "at": ASKED},
            {"user": "carol", "option": "Approve", "reason": "outage", "channel": "break_glass", "at": ASKED},
        ],
    }
    passage = gate_passage("g", answered, ASKED, status)  # type: ignore[arg-type]
    assert (passage["outcome"], passage["bypassed_by"], passage["waited_seconds"]) == (
        "bypassed",
        "carol",
        20.0,
    )
    stats.incr.assert_called_once_with("airgate.gate.g.bypassed")
    # Decided by its policy, the same answer is the option chosen.
    assert gate_passage("g", answered, ASKED, {**status, "state": "approved"})["outcome"] == "approve"  # type: ignore[typeddict-item]


STEPS = ["schema", "data", "config"]


@pytest.mark.parametrize(
    ("applied", "requested", "rolled_back", "status", "steps"),
    [
        (STEPS, [], [], "not_needed", ["kept", "kept", "kept"]),
        (STEPS, STEPS, STEPS, "complete", ["rolled_back"] * 3),
        (STEPS, ["config"], ["config"], "partial", ["kept", "kept", "rolled_back"]),
        (
            ["schema", "data"],
            STEPS,
            ["schema", "data"],
            "complete",
            ["rolled_back", "rolled_back", "not_applied"],
        ),
        (STEPS, STEPS, ["config"], "failed", ["rollback_failed", "rollback_failed", "rolled_back"]),
    ],
    ids=["kept", "complete", "partial-by-choice", "partial-release", "failed"],
)
def test_rollback_status(stats, applied, requested, rolled_back, status, steps):
    result = rollback_status(STEPS, applied, requested, rolled_back)
    assert result == {"status": status, "steps": dict(zip(STEPS, steps, strict=True))}
    stats.incr.assert_called_once_with(f"airgate.rollback.{status}")


def signal(state: str, decided_at: str | None, due_at: str | None = "2026-01-02T03:00:20Z") -> dict:
    return {"state": state, "decided_at": decided_at, "due_at": due_at}


@pytest.mark.parametrize(
    ("state", "decided_at", "sla", "margin"),
    [
        ("approved", "2026-01-02T03:00:05Z", "met", 15.0),
        ("approved", "2026-01-02T03:00:31Z", "breached", -11.0),
        # The deadline answered because nobody did: a breach, though it ended on time to the second.
        ("expired", "2026-01-02T03:00:20Z", "breached", 0.0),
        ("pending", None, "pending", None),
    ],
)
def test_an_approval_is_measured_against_its_deadline_and_counted(stats, state, decided_at, sla, margin):
    outcome = sla_outcome("approve_payment", signal(state, decided_at))  # type: ignore[arg-type]
    assert outcome == {
        "task_id": "approve_payment",
        "sla": sla,
        "due_at": "2026-01-02T03:00:20Z",
        "decided_at": decided_at,
        "margin_seconds": margin,
    }
    stats.incr.assert_called_once_with(f"airgate.sla.approve_payment.{sla}")
    if margin is None:
        stats.gauge.assert_not_called()
    else:
        stats.gauge.assert_called_once_with("airgate.sla.approve_payment.margin", margin)


def test_without_a_deadline_or_a_record_there_is_no_sla(stats):
    assert sla_outcome("gate", None)["sla"] == "none"
    no_deadline = sla_outcome("gate", signal("approved", "2026-01-02T03:00:05Z", None))  # type: ignore[arg-type]
    assert no_deadline == {
        "task_id": "gate",
        "sla": "none",
        "due_at": None,
        "decided_at": "2026-01-02T03:00:05Z",
        "margin_seconds": None,
    }


def test_a_dags_own_outcome_is_one_metric_tagged_with_the_dag(stats):
    count_outcome("branch", "Ship to canary", dag_id="120_05_03_conditional_branching")

    stats.incr.assert_called_once_with(
        "airgate.branch.ship_to_canary", tags={"dag_id": "120_05_03_conditional_branching"}
    )
