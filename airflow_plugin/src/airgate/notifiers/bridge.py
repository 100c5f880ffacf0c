"""Notifiers that tell the airgate bridge about approvals the moment a task asks for one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseNotifier
from airflow.sdk.timezone import utcnow

from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook

log = logging.getLogger(__name__)

#: The XCom key under which an airgate task records when it asked (its answer says when it was given).
REQUESTED_AT_KEY = "airgate_requested_at"
#: The XCom key under which a HITL task keeps the id the bridge answered its registration with; absent when the
#: push failed and the bridge's reconcile loop registered the request instead.
APPROVAL_ID_KEY = "airgate_approval_id"


def request_values(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The values policies' ``when`` conditions see: the run's conf, overridden by the form's defaults."""
    conf = dict(context["dag_run"].conf or {})
    return {**conf, **{name: spec.get("value") for name, spec in params.items()}}


def approval_registration(
    context: Any, *, subject: str, body: str | None, options: Sequence[str], params: dict[str, Any]
) -> dict[str, Any]:
    """
    What ``POST /api/v1/approvals`` gets for the running task: the task try it belongs to, the question,
    who asked (the run's triggering user; none for a scheduled or asset-triggered run, when the DAG's
    owners may count as requester), the DAG's tags and owners, and the values policies match on.

    :param context: The task's context.
    :param subject: What people are asked.
    :param body: Markdown details.
    :param options: The choices.
    :param params: The request's form (Airflow's serialized params); empty for none.
    """
    ti = context["ti"]
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "try_number": ti.try_number,
        "subject": subject,
        "body": body,
        "options": list(options),
        "requester": context["dag_run"].triggering_user_name,
        "tags": sorted(context["dag"].tags or []),
        "owners": sorted({task.owner for task in context["dag"].tasks}),
        "values": request_values(context, params),
    }


class BridgeRegistrationNotifier(BaseNotifier):
    """
    Registers the approval with the bridge (``POST /api/v1/approvals``) as soon as the request is written,
    and keeps the approval's id as the task's ``airgate_approval_id`` XCom.

    The bridge's reconcile loop finds every pending request anyway, so a bridge that cannot be reached
    only delays the approval: the failure is logged, never raised into the task, and not retried here (the
    task would hold its worker slot while it retried; the reconcile loop is the retry).

    :param conn_id: Airflow connection with the bridge's URL (host) and service token (password).
    """

    def __init__(self, conn_id: str = BRIDGE_CONN_ID) -> None:
        super().__init__()
        self.conn_id = conn_id

    def notify(self, context: Any) -> None:
        task = context["task"]
        params: dict[str, Any] = task.serialized_params
        registration = approval_registration(
            context, subject=task.subject, body=task.body, options=task.options, params=params
        )
        # The operator parks the task right after its notifiers with this timeout (HITLOperator.execute), so
        # Airflow's own deadline is now + response_timeout, give or take the call below; the bridge shows the
        # earlier of it and the policy's. The REST API does not expose the task instance's trigger_timeout.
        timeout = task.response_timeout
        timeout_at = (utcnow() + timeout).isoformat() if timeout else None
        try:
            approval_id = BridgeHook(self.conn_id).register_approval(
                {**registration, "params": params, "timeout_at": timeout_at}
            )
        except Exception as exc:  # the reconcile loop is the safety net; never fail the task here
            log.warning("airgate: could not register the approval with the bridge: %s", exc)
            return
        log.info("airgate: approval %s registered with the bridge", approval_id)
        context["ti"].xcom_push(key=APPROVAL_ID_KEY, value=approval_id)


class RequestTimeNotifier(BaseNotifier):
    """
    Records when the question was asked, as the task's ``airgate_requested_at`` XCom (ISO 8601, UTC).

    Airflow keeps a task's XComs when it resumes from ``awaiting_input``, so downstream tasks can measure
    how long the pipeline waited for people (see :func:`airgate.metrics.gate_passage`).
    """

    def notify(self, context: Any) -> None:
        context["ti"].xcom_push(key=REQUESTED_AT_KEY, value=utcnow().isoformat())
