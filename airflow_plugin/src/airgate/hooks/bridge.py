"""The one way airgate's Python side talks to the bridge: an ``HttpHook`` on the ``airgate_bridge`` connection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.http.hooks.http import HttpHook

if TYPE_CHECKING:
    from requests import Response

    from airgate.policies import CheckedApproval, PolicyCheck, PolicyDryRun
    from airgate.receipts import Receipt
    from airgate.signals import ApprovalSignal, AuditEvidence, Delivery, Escalation

#: The Airflow connection that points at the bridge: host = bridge URL, password = its service token.
BRIDGE_CONN_ID = "airgate_bridge"
#: Seconds a call to the bridge may take; the bridge answers in milliseconds when it is up.
TIMEOUT = 10


class BridgeHook(HttpHook):
    """
    The bridge's REST API, reached through an HTTP connection (host = the bridge's URL, password = its
    service token). Built on the http provider's ``HttpHook`` (requests), as Airflow's ``HttpSensor`` is, so
    the notifier, the operators, the sensors and the plugin's same-origin route share one HTTP stack.

    Calls carry the connection's service token unless the caller passes a person's token (the plugin's
    same-origin route forwards the signed-in person's Airflow token).

    :param bridge_conn_id: The connection to the bridge.
    """

    conn_name_attr = "bridge_conn_id"
    default_conn_name = BRIDGE_CONN_ID
    conn_type = "http"
    hook_name = "airgate bridge"

    def __init__(self, bridge_conn_id: str = BRIDGE_CONN_ID) -> None:
        super().__init__(method="GET", http_conn_id=bridge_conn_id)

    def call(
        self,
        method: str,
        endpoint: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = TIMEOUT,
        **request: Any,
    ) -> Response:
        """
        One request to the bridge, answered as it came (no status check, no redirect followed).

        :param method: The HTTP method.
        :param endpoint: The path on the bridge, e.g. ``/api/v1/approvals``.
        :param token: The bearer token to present; None presents the connection's service token.
        :param headers: Other headers to send.
        :param timeout: Seconds to wait for the answer.
        :param request: What ``requests`` takes besides: ``params``, ``json``, ``data``.
        """
        if token is None:
            token = self.get_connection(self.http_conn_id).password
        with self.get_conn({**(headers or {}), "Authorization": f"Bearer {token}"}) as session:
            response: Response = session.request(
                method, self.url_from_endpoint(endpoint), timeout=timeout, allow_redirects=False, **request
            )
        return response

    def register_approval(self, registration: Mapping[str, Any]) -> str:
        """Register an approval (``POST /api/v1/approvals``, idempotent per task try) and return its id."""
        response = self.call("POST", "/api/v1/approvals", json=dict(registration))
        response.raise_for_status()
        return str(response.json()["id"])

    def approval_status(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> ApprovalSignal | None:
        """
        The bridge's answer to ``GET /api/v1/signals/approvals`` for one task's approval (of one mapped
        instance, by ``map_index``); None while the bridge has no approval for it (404).
        """
        status: ApprovalSignal | None = self._signal("approvals", dag_id, run_id, task_id, map_index)
        return status

    def deliveries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[Delivery]:
        """
        Every delivery of one task's approval's messages, oldest first, without addresses
        (``GET /api/v1/signals/deliveries``); empty while the bridge has no approval for it (404).
        """
        found = self._signal("deliveries", dag_id, run_id, task_id, map_index)
        deliveries: list[Delivery] = found["items"] if found else []
        return deliveries

    def receipt(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, *, timeout: float = TIMEOUT
    ) -> Receipt | None:
        """
        The signed receipt of one task's decided approval (``GET /api/v1/signals/receipts``); None while the
        bridge has none for it (404: no approval, or not decided yet).
        """
        found: Receipt | None = self._signal("receipts", dag_id, run_id, task_id, map_index, timeout=timeout)
        return found

    def _signal(
        self, what: str, dag_id: str, run_id: str, task_id: str, map_index: int, *, timeout: float = TIMEOUT
    ) -> Any:
        """``GET /api/v1/signals/<what>`` for one task's approval, parsed; None while the bridge has none (404)."""
        response = self.call(
            "GET",
            f"/api/v1/signals/{what}",
            params=_task_key(dag_id, run_id, task_id, map_index),
            timeout=timeout,
        )
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def audit_evidence(
        self, dag_id: str, run_id: str, task_id: str, map_index: int = -1
    ) -> AuditEvidence | None:
        """
        One task's approval's audit entries, with the chain verified at export time
        (``GET /api/v1/signals/audit``); None while the bridge has no approval for it (404).
        """
        evidence: AuditEvidence | None = self._signal("audit", dag_id, run_id, task_id, map_index)
        return evidence

    def escalations(self, dag_id: str, run_id: str, task_id: str) -> list[Escalation]:
        """
        The escalation chain of one task's approval, oldest first (``GET /api/v1/signals/escalations``);
        empty while the bridge has no approval for it (404).
        """
        found = self._signal("escalations", dag_id, run_id, task_id, -1)
        chain: list[Escalation] = found["items"] if found else []
        return chain

    def dry_run(
        self,
        dag_id: str,
        task_id: str,
        *,
        token: str,
        conf: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        options: Sequence[str] = (),
        requester: str | None = None,
        unattended: bool = False,
        map_index: int = -1,
    ) -> PolicyDryRun:
        """
        Who would have to approve ``task_id`` of a run triggered with ``conf``, by when and through which channels,
        and whether its quorum can be met (``POST /api/v1/policies/dry-run``), under the policies in force now.

        :param dag_id: The DAG; one the token's person may read (else the bridge answers 404).
        :param task_id: The approval task.
        :param token: A person's Airflow token (the dry-run is a person's call, never the service token's).
        :param conf: The run's conf, which policies' ``when`` conditions read.
        :param params: The HITL form's values, over the conf.
        :param options: The task's options, to check each has a meaning under the policy.
        :param requester: Who would trigger the run; None: the token's person.
        :param unattended: For a run nobody triggers (a schedule, an asset event); ``requester`` is then ignored.
        :param map_index: The mapped instance; -1 when not mapped.
        :raises requests.HTTPError: on a refusal (400 naming the field, 401, 404).
        """
        body: dict[str, Any] = {
            "dag_id": dag_id,
            "task_id": task_id,
            "map_index": map_index,
            "conf": dict(conf or {}),
            "params": dict(params or {}),
            "options": list(options),
        }
        if unattended:
            body["requester"] = None
        elif requester is not None:
            body["requester"] = requester
        response = self.call("POST", "/api/v1/policies/dry-run", token=token, json=body)
        response.raise_for_status()
        result: PolicyDryRun = response.json()
        return result

    def check_policies(
        self,
        policies: str,
        approvals: Sequence[CheckedApproval],
        *,
        token: str,
        source: str = "policies.yaml",
    ) -> PolicyCheck:
        """
        Validates the text of a policies file and dry-runs ``approvals`` against it, not against the file the
        bridge runs with (``POST /api/v1/policies/check``); Airflow is not asked.

        :param policies: The file's text.
        :param approvals: The approval tasks, described as Airflow would (see :func:`airgate.policies.scan_dags`).
        :param token: A person's Airflow token.
        :param source: The file name the bridge reports a problem under.
        :raises requests.HTTPError: on a refusal (400 naming the field, 401).
        """
        body = {"policies": policies, "source": source, "approvals": list(approvals)}
        response = self.call("POST", "/api/v1/policies/check", token=token, json=body)
        response.raise_for_status()
        result: PolicyCheck = response.json()
        return result


def _task_key(dag_id: str, run_id: str, task_id: str, map_index: int) -> dict[str, str | int]:
    """The query naming one task's approval (one mapped instance's, by ``map_index``)."""
    key: dict[str, str | int] = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id}
    if map_index >= 0:
        key["map_index"] = map_index
    return key


def approval_status(
    dag_id: str, run_id: str, task_id: str, conn_id: str = BRIDGE_CONN_ID, *, map_index: int = -1
) -> ApprovalSignal | None:
    """:meth:`BridgeHook.approval_status` through the connection ``conn_id``, for a task's own code."""
    return BridgeHook(conn_id).approval_status(dag_id, run_id, task_id, map_index)
