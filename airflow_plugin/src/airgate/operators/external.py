"""The request of an external approval: one that a sensor, not a HITL task, waits for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.timezone import utcnow

from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook
from airgate.notifiers.bridge import REQUESTED_AT_KEY, approval_registration

if TYPE_CHECKING:
    from airflow.sdk import Context


class RequestApprovalOperator(BaseOperator):
    """
    Ask people for a decision that a sensor, not a HITL task, waits for.

    Registers an external approval with the bridge and returns its id (when it asked is its
    ``airgate_requested_at`` XCom, as for the HITL operators). There is no HITL task, so the bridge answers
    nothing in Airflow: its policies decide who may approve, as for any airgate approval, and once decided
    (or at a policy deadline) the bridge publishes the ``signals`` through its durable effects. Unlike the
    HITL operators' notifier, a failed registration fails the task (so its retries ask again): no HITL
    request exists for the bridge to find on its own.

    :param subject: What people are asked (templated).
    :param body: Markdown details (templated).
    :param signals: What the bridge publishes once decided: :func:`airgate.signals.trigger_dag`,
        :data:`airgate.signals.FILE_SIGNAL`, :func:`airgate.signals.asset_event`; none when the sensor reads
        the bridge's store or API.
    :param options: The choices; an option named like Reject/Deny/Decline rejects.
    :param conn_id: The Airflow connection to the bridge (host = URL, password = service token).
    """

    template_fields: Sequence[str] = ("subject", "body")

    def __init__(
        self,
        *,
        subject: str,
        body: str | None = None,
        signals: Sequence[Mapping[str, str]] = (),
        options: Sequence[str] = ("Approve", "Reject"),
        conn_id: str = BRIDGE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.subject = subject
        self.body = body
        self.signals = [dict(s) for s in signals]
        self.options = list(options)
        self.conn_id = conn_id

    def execute(self, context: Context) -> str:
        signals = self.signals
        registration = approval_registration(
            context, subject=self.subject, body=self.body, options=self.options, params={}
        )
        approval_id = BridgeHook(self.conn_id).register_approval(
            {**registration, "external": True, "signals": signals}
        )
        context["ti"].xcom_push(key=REQUESTED_AT_KEY, value=utcnow().isoformat())
        self.log.info("airgate: external approval %s registered; signals: %s", approval_id, signals)
        return approval_id
