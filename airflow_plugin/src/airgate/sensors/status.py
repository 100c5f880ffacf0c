"""Waiting on the bridge's status API: an ``HttpSensor`` on ``GET /api/v1/signals/approvals``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.providers.http.sensors.http import HttpSensor
from airflow.sdk import PokeReturnValue
from airflow.sdk.exceptions import AirflowSkipException

from airgate.hooks.bridge import BRIDGE_CONN_ID
from airgate.signals import PASSED_STATES, REFUSED_STATES

if TYPE_CHECKING:
    from requests import Response


def _approved_response(response: Response) -> bool | PokeReturnValue:
    signal = response.json()
    state = signal["state"]
    if state in REFUSED_STATES:
        raise AirflowSkipException(f"the approval is {state}")
    # The decision the sensor saw is its XCom: what follows reads it instead of asking the bridge again.
    return PokeReturnValue(is_done=True, xcom_value=signal) if state in PASSED_STATES else False


class ApprovalStatusSensor(HttpSensor):
    """
    ``HttpSensor`` on the bridge's status API (``GET /api/v1/signals/approvals``) for the approval that
    ``request_task_id`` asked for in this run, authenticated with the service token of ``http_conn_id``.
    Pending (or not registered yet: 404) pokes again; approved (or bypassed with break-glass) succeeds and
    returns the decision it saw (an :class:`airgate.ApprovalSignal`) as its XCom; a refusal skips (``soft_fail``).

    :param request_task_id: The task that requested the approval (a
        :class:`airgate.operators.external.RequestApprovalOperator`).
    :param http_conn_id: HTTP connection to the bridge: host = its URL, password = its service token.
    """

    def __init__(self, *, request_task_id: str, http_conn_id: str = BRIDGE_CONN_ID, **kwargs: Any) -> None:
        super().__init__(
            http_conn_id=http_conn_id,
            method="GET",
            endpoint="api/v1/signals/approvals",
            request_params={
                "dag_id": "{{ dag.dag_id }}",
                "run_id": "{{ run_id }}",
                "task_id": request_task_id,
            },
            headers={"Authorization": f"Bearer {{{{ conn['{http_conn_id}'].password }}}}"},
            response_check=_approved_response,
            soft_fail=True,
            **kwargs,
        )
