"""What airgate counts in Airflow's metrics: gate passages, SLA outcomes and rollbacks (reported by downstream tasks), sensor pokes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TypedDict

from airflow.sdk.observability.stats import Stats

from airgate.signals import ApprovalSignal


class GatePassage(TypedDict):
    """How one run passed one gate."""

    gate: str
    #: The chosen option as a metric-safe word (``approve``, ``reject``, ...), ``bypassed`` (break-glass through the
    #: bridge) or ``not_reached``.
    outcome: str
    #: Whether nobody answered and Airflow's ``response_timeout`` took the default. Who answered is in the
    #: gate's task note and the bridge's audit trail: Airflow only knows that the bridge did.
    timed_out: bool
    #: From the question to the answer; None when the gate never asked.
    waited_seconds: float | None
    #: Who broke the glass on the gate, as the bridge recorded it; None when the gate was decided by its policy.
    bypassed_by: str | None


class RollbackStatus(TypedDict):
    """Where a rollback stands, overall and per step."""

    #: ``not_needed`` (nothing to undo), ``complete``, ``partial`` (some applied steps kept) or ``failed``.
    status: str
    #: step -> ``not_applied``, ``kept``, ``rolled_back`` or ``rollback_failed``.
    steps: dict[str, str]


class SlaOutcome(TypedDict):
    """Whether one approval was decided within its SLA, as the bridge recorded it."""

    task_id: str
    #: ``met`` (people decided before the deadline), ``breached`` (after it, or the deadline answered because
    #: nobody did), ``pending`` (not decided yet) or ``none`` (the approval has no deadline, or the bridge no record).
    sla: str
    due_at: str | None
    decided_at: str | None
    #: Seconds between the decision and the deadline: positive when met, zero or negative when breached.
    margin_seconds: float | None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def gate_passage(
    gate: str,
    decision: Mapping[str, Any] | None,
    requested_at: str | None,
    status: ApprovalSignal | None = None,
) -> GatePassage:
    """
    Describe one gate's passage and count it in Airflow's metrics (``airgate.gate.<gate>.<outcome>``,
    with the wait as the timer ``airgate.gate.<gate>.wait``).

    :param gate: The gate's task id.
    :param decision: The gate's XCom (``chosen_options``, ``responded_at``, ``responded_by_user``), or None
        when the gate did not run.
    :param requested_at: The gate's ``airgate_requested_at`` XCom: when it asked.
    :param status: The bridge's record of the gate's approval (:func:`airgate.approval_status`): a
        break-glass bypass shows there, since Airflow's answer reads like any approval.
    """
    deciders = status["deciders"] if status else []
    bypasser = next((d["user"] for d in deciders if d["channel"] == "break_glass"), None)
    if decision is None:
        passage = GatePassage(
            gate=gate, outcome="not_reached", timed_out=False, waited_seconds=None, bypassed_by=None
        )
    else:
        waited = None
        if requested_at is not None:
            waited = (_moment(decision["responded_at"]) - _moment(requested_at)).total_seconds()
        bypassed = status is not None and status["state"] == "bypassed"
        passage = GatePassage(
            gate=gate,
            outcome="bypassed" if bypassed else _slug(decision["chosen_options"][0]),
            timed_out=decision["responded_by_user"] is None,
            waited_seconds=waited,
            bypassed_by=bypasser if bypassed else None,
        )
    Stats.incr(f"airgate.gate.{gate}.{passage['outcome']}")
    if passage["waited_seconds"] is not None:
        Stats.timing(f"airgate.gate.{gate}.wait", passage["waited_seconds"] * 1000)
    return passage


def sla_outcome(task_id: str, status: ApprovalSignal | None) -> SlaOutcome:
    """
    Measure one approval against its SLA and count it in Airflow's metrics (``airgate.sla.<task_id>.<sla>``,
    with the margin as the gauge ``airgate.sla.<task_id>.margin``).

    :param task_id: The approval task's id.
    :param status: The bridge's status of its approval (:func:`airgate.approval_status`).
    """
    due, decided = (status["due_at"], status["decided_at"]) if status else (None, None)
    margin = (_moment(due) - _moment(decided)).total_seconds() if due and decided else None
    if status is None or due is None:
        sla = "none"
    elif status["state"] == "pending":
        sla = "pending"
    elif status["state"] == "expired" or margin is None or margin <= 0:
        sla = "breached"
    else:
        sla = "met"
    Stats.incr(f"airgate.sla.{task_id}.{sla}")
    if margin is not None:
        Stats.gauge(f"airgate.sla.{task_id}.margin", margin)
    return SlaOutcome(task_id=task_id, sla=sla, due_at=due, decided_at=decided, margin_seconds=margin)


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


def count_poke(sensor: str, outcome: str) -> None:
    """Count one sensor poke in Airflow's metrics: ``airgate.sensor.<sensor>.<outcome>``."""
    Stats.incr(f"airgate.sensor.{sensor}.{outcome}")


def count_outcome(kind: str, outcome: str, dag_id: str) -> None:
    """
    Count one outcome of a DAG's own decision point in Airflow's metrics: ``airgate.<kind>.<outcome>``, tagged
    with the DAG (``dag_id``), so dashboards can split by DAG without a metric name per DAG.

    :param kind: What is counted, e.g. ``branch`` (the path a decision took) or ``runs`` (how a run started).
    :param outcome: The outcome, e.g. ``approve`` or ``manual``.
    :param dag_id: The DAG it happened in.
    """
    Stats.incr(f"airgate.{_slug(kind)}.{_slug(outcome)}", tags={"dag_id": dag_id})
