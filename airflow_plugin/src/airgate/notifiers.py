"""Notifiers that tell the airgate bridge about approvals the moment a task asks for one."""

from __future__ import annotations

import json
import logging
import urllib.request
from typing import Any

from airflow.sdk import BaseNotifier, Connection
from airflow.sdk.timezone import utcnow

log = logging.getLogger(__name__)

#: The Airflow connection that points at the bridge: host = bridge URL, password = its service token.
BRIDGE_CONN_ID = "airgate_bridge"
#: The XCom key under which an airgate HITL task records when it asked (its answer says when it was given).
REQUESTED_AT_KEY = "airgate_requested_at"


def request_values(context: Any, params: dict[str, Any]) -> dict[str, Any]:
    """The values policies' ``when`` conditions see: the run's conf, overridden by the form's defaults."""
    conf = dict(context["dag_run"].conf or {})
    return {**conf, **{name: spec.get("value") for name, spec in params.items()}}


class BridgeRegistrationNotifier(BaseNotifier):
    """
    Registers the approval with the bridge (``POST /api/v1/approvals``) as soon as the request is written.

    The bridge's reconcile loop finds every pending request anyway, so a bridge that cannot be reached
    only delays the approval: the failure is logged, never raised into the task.

    :param conn_id: Airflow connection with the bridge's URL (host) and service token (password).
    """

    def __init__(self, conn_id: str = BRIDGE_CONN_ID) -> None:
        super().__init__()
        self.conn_id = conn_id

    def notify(self, context: Any) -> None:
        ti = context["ti"]
        task = context["task"]
        params: dict[str, Any] = task.serialized_params
        payload = {
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": ti.map_index,
            "try_number": ti.try_number,
            "subject": task.subject,
            "body": task.body,
            "options": task.options,
            "params": params,
            "requester": context["dag_run"].triggering_user_name,
            "tags": sorted(context["dag"].tags or []),
            "values": request_values(context, params),
        }
        try:
            conn = Connection.get(self.conn_id)
            request = urllib.request.Request(
                f"{conn.host.rstrip('/')}/api/v1/approvals",
                data=json.dumps(payload).encode(),
                headers={"Authorization": f"Bearer {conn.password}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                approval_id = json.loads(response.read())["id"]
            log.info("airgate: approval %s registered with the bridge", approval_id)
        except Exception as exc:  # the reconcile loop is the safety net; never fail the task here
            log.warning("airgate: could not register the approval with the bridge: %s", exc)


class RequestTimeNotifier(BaseNotifier):
    """
    Records when the question was asked, as the task's ``airgate_requested_at`` XCom (ISO 8601, UTC).

    Airflow keeps a task's XComs when it resumes from ``awaiting_input``, so downstream tasks can measure
    how long the pipeline waited for people (see :func:`airgate.metrics.gate_passage`).
    """

    def notify(self, context: Any) -> None:
        context["ti"].xcom_push(key=REQUESTED_AT_KEY, value=utcnow().isoformat())
