"""Small functions downstream tasks use to report what people decided: gate passages and rollbacks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from airflow.sdk.observability.stats import Stats


class GatePassage(TypedDict):
    """How one run passed one gate."""

    gate: str
    #: The chosen option as a metric-safe word (``approve``, ``reject``, ...), or ``bypassed`` / ``not_reached``.
    outcome: str
    #: Whether nobody answered and Airflow's ``response_timeout`` took the default. Who answered is in the
    #: gate's task note and the bridge's audit trail: Airflow only knows that the bridge did.
    timed_out: bool
    #: From the question to the answer; None when the gate never asked.
    waited_seconds: float | None


class RollbackStatus(TypedDict):
    """Where a rollback stands, overall and per step."""

    #: ``not_needed`` (nothing to undo), ``complete``, ``partial`` (some applied steps kept) or ``failed``.
    status: str
    #: step -> ``not_applied``, ``kept``, ``rolled_back`` or ``rollback_failed``.
    steps: dict[str, str]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def gate_passage(
    gate: str, decision: Mapping[str, Any] | None, requested_at: str | None, *, bypassed: bool = False
) -> GatePassage:
    """
    Describe one gate's passage and count it in Airflow's metrics (``airgate.gate.<gate>.<outcome>``,
    with the wait as the timer ``airgate.gate.<gate>.wait``).

    :param gate: The gate's task id.
    :param decision: The gate's XCom (``chosen_options``, ``responded_at``, ``responded_by_user``), or None
        when the gate did not run.
    :param requested_at: The gate's ``airgate_requested_at`` XCom: when it asked.
    :param bypassed: Whether the run was told to bypass the gates (only used when the gate did not run).
    """
    if decision is None:
        passage = GatePassage(
            gate=gate,
            outcome="bypassed" if bypassed else "not_reached",
            timed_out=False,
            waited_seconds=None,
        )
    else:
        waited = None
        if requested_at is not None:
            waited = (_moment(decision["responded_at"]) - _moment(requested_at)).total_seconds()
        passage = GatePassage(
            gate=gate,
            outcome=_slug(decision["chosen_options"][0]),
            timed_out=decision["responded_by_user"] is None,
            waited_seconds=waited,
        )
    Stats.incr(f"airgate.gate.{gate}.{passage['outcome']}")
    if passage["waited_seconds"] is not None:
        Stats.timing(f"airgate.gate.{gate}.wait", passage["waited_seconds"] * 1000)
    return passage


def rollback_status(
    steps: Iterable[str], applied: Iterable[str], requested: Iterable[str], rolled_back: Iterable[str]
) -> RollbackStatus:
    """
    Where a rollback stands once its tasks have run (or not).

    :param steps: Every step of the change, in the order it is applied.
    :param applied: Steps the run actually applied; only these can need undoing.
    :param requested: Steps people asked to undo (empty when they kept the change).
    :param rolled_back: Steps whose rollback task reported success.
    """
    applied, requested, rolled_back = set(applied), set(requested), set(rolled_back)
    per_step: dict[str, str] = {}
    for step in steps:
        if step not in applied:
            per_step[step] = "not_applied"
        elif step in rolled_back:
            per_step[step] = "rolled_back"
        elif step in requested:
            per_step[step] = "rollback_failed"
        else:
            per_step[step] = "kept"
    states = set(per_step.values())
    if "rollback_failed" in states:
        status = "failed"
    elif "rolled_back" not in states:
        status = "not_needed"
    elif "kept" in states:
        status = "partial"
    else:
        status = "complete"
    Stats.incr(f"airgate.rollback.{status}")
    return RollbackStatus(status=status, steps=per_step)
