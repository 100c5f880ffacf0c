"""Gate passages and rollback status, as downstream tasks report them."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest

from airgate import gate_passage, rollback_status

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


@pytest.mark.parametrize(("bypassed", "outcome"), [(True, "bypassed"), (False, "not_reached")])
def test_a_gate_that_never_asked(stats, bypassed, outcome):
    assert gate_passage("g", None, None, bypassed=bypassed) == {
        "gate": "g",
        "outcome": outcome,
        "timed_out": False,
        "waited_seconds": None,
    }
    stats.incr.assert_called_once_with(f"airgate.gate.g.{outcome}")
    stats.timing.assert_not_called()


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
