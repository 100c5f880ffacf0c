"""Operators DAG authors use to ask people for a decision, built on Airflow's native HITL operators."""

from __future__ import annotations

import os
from typing import Any

from airflow.providers.standard.operators.hitl import ApprovalOperator
from airflow.sdk import BaseNotifier

from airgate.notifiers import BridgeRegistrationNotifier

# The bridge answers every airgate HITL task with this Airflow user. Being the only assigned user is what
# stops Airflow's own Required Actions form from bypassing the bridge's rules (quorum, levels, self-approval).
SERVICE_ACCOUNT = os.environ.get("AIRGATE_SERVICE_ACCOUNT", "airgate")


class AirgateApprovalOperator(ApprovalOperator):
    """
    Ask for an Approve/Reject decision that people make through airgate (UI, Slack, email, ...).

    The task waits in Airflow's ``awaiting_input`` state, holding no worker slot, until the bridge
    answers it or ``response_timeout`` passes. On "Reject" the direct downstream tasks are skipped.

    :param subject: Headline of the request, shown in every channel.
    :param body: Markdown that gives the approver what they need to decide.
    :param notifiers: More notifiers to call when the request is written; the bridge's registration
        notifier always comes first.
    :param kwargs: Everything else ``ApprovalOperator`` takes (``response_timeout``, ``defaults``,
        ``params``, ``fail_on_reject``, ...), except ``assigned_users``, which airgate owns.
    """

    def __init__(
        self,
        *,
        subject: str,
        body: str | None = None,
        notifiers: list[BaseNotifier] | None = None,
        **kwargs: Any,
    ) -> None:
        if "assigned_users" in kwargs:
            raise ValueError("airgate assigns its service account; approvers come from the bridge's policies")
        super().__init__(
            subject=subject,
            body=body,
            assigned_users=[{"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT}],
            notifiers=[BridgeRegistrationNotifier(), *(notifiers or [])],
            **kwargs,
        )
