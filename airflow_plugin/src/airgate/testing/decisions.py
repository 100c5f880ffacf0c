"""Decisions a test makes in place of people: who chose what, with which form input, or that nobody did."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from airflow.sdk.timezone import utcnow

from airgate.operators.hitl import SERVICE_ACCOUNT
from airgate.signals import Decider

#: How the decision came about, which is what Airflow's answer and the bridge's record show:
#: ``people`` voted (the bridge answers as its service account), the policy's ``deadline`` chose (the bridge
#: answers, nobody voted) or Airflow's own ``timeout`` took the request's defaults (nobody answered).
WAYS = ("people", "deadline", "timeout")


@dataclass(frozen=True)
class Decision:
    """
    One simulated outcome of an approval task.

    :param option: The option chosen; None for a timeout, which takes the request's ``defaults``.
    :param state: The bridge's state of the approval afterwards (approved, rejected, expired, pending).
    :param way: One of :data:`WAYS`.
    :param params_input: The form input the task resumes with.
    :param deciders: The votes that decided, as the bridge records them.
    """

    option: str | None
    state: str
    way: str
    params_input: Mapping[str, Any] = field(default_factory=dict)
    deciders: Sequence[Decider] = ()

    def resume_event(
        self, options: Sequence[str], defaults: Sequence[str] | None, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """
        The event Airflow resumes the parked task with: what ``HITLDetail.as_resume_event_payload`` builds
        from a response (airflow/models/hitl.py:181), or, for a timeout, what the scheduler's sweep builds
        (airflow/jobs/scheduler_job_runner.py:3455-3490): the defaults and the form's defaults, answered by
        nobody, or the timeout error when the request has no defaults.

        :param options: The request's options.
        :param defaults: The request's defaults.
        :param params: The request's serialized form.
        """
        if self.way == "timeout":
            if not defaults:
                return {
                    "error": "The Human-in-the-loop response timeout has passed without a response.",
                    "error_type": "timeout",
                }
            form = {
                name: spec.get("value") if isinstance(spec, Mapping) else spec
                for name, spec in params.items()
            }
            return _event(list(defaults), form, None, timedout=True)
        if self.option not in options:
            raise ValueError(f"{self.option!r} is not one of the request's options {list(options)}")
        form = {
            name: spec.get("value") if isinstance(spec, Mapping) else spec for name, spec in params.items()
        }
        return _event([str(self.option)], {**form, **self.params_input}, SERVICE_ACCOUNT, timedout=False)


def _event(
    chosen: list[str], params_input: dict[str, Any], by: str | None, *, timedout: bool
) -> dict[str, Any]:
    responded_at: datetime = utcnow()
    return {
        "chosen_options": chosen,
        "params_input": params_input,
        "responded_at": responded_at,
        "responded_by_user": {"id": by, "name": by} if by else None,
        "timedout": timedout,
    }


def _deciders(by: str | Sequence[str], option: str, reason: str | None, channel: str) -> list[Decider]:
    people = [by] if isinstance(by, str) else list(by)
    at = utcnow().isoformat()
    return [Decider(user=person, option=option, reason=reason, channel=channel, at=at) for person in people]


def approve(
    by: str | Sequence[str] = "bob",
    *,
    reason: str | None = None,
    params_input: Mapping[str, Any] | None = None,
    option: str = "Approve",
    channel: str = "ui",
) -> Decision:
    """
    People approve: ``by`` (one name or every voter a quorum needs) chose ``option``.

    :param by: Who voted.
    :param reason: Their reason.
    :param params_input: The form input they filled (merged over the form's defaults).
    :param option: The approving option.
    :param channel: Where they voted (ui, slack, email, teams, webhook).
    """
    return Decision(
        option, "approved", "people", dict(params_input or {}), _deciders(by, option, reason, channel)
    )


def reject(
    by: str | Sequence[str] = "bob",
    *,
    reason: str | None = "not this time",
    option: str = "Reject",
    channel: str = "ui",
) -> Decision:
    """People reject: ``by`` chose ``option``, giving ``reason`` (policies usually require one)."""
    return Decision(option, "rejected", "people", {}, _deciders(by, option, reason, channel))


def choose(
    option: str,
    by: str | Sequence[str] = "bob",
    *,
    reason: str | None = None,
    params_input: Mapping[str, Any] | None = None,
    state: str = "approved",
    channel: str = "ui",
) -> Decision:
    """People choose any option (a branch, Defer, Roll back); ``state`` is what the bridge records for it."""
    return Decision(option, state, "people", dict(params_input or {}), _deciders(by, option, reason, channel))


def expire(option: str = "Reject") -> Decision:
    """Nobody voted before the policy's deadline: the bridge answers ``option`` itself (state ``expired``)."""
    return Decision(option, "expired", "deadline")


def timeout() -> Decision:
    """
    Nobody answered before Airflow's ``response_timeout``: the task resumes with its ``defaults`` answered by
    nobody, or fails with ``HITLTimeoutError`` when it has none. The bridge still shows the approval pending.
    """
    return Decision(None, "pending", "timeout")
