"""
Approvals a DAG waits for with a sensor: the request, the signals the bridge publishes once people decide,
and the readers sensors use (a file, the bridge's store, the bridge's status API).

A :class:`RequestApprovalOperator` registers an *external* approval with the bridge: there is no HITL task,
so the bridge answers nothing in Airflow; it publishes the decision through its durable outbox as the
signals the request names (a DAG run, a file, an asset event), and the DAG waits for one with a sensor.
Every signal carries the same metadata, :class:`ApprovalSignal`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from airflow.providers.common.sql.sensors.sql import SqlSensor
from airflow.providers.http.sensors.http import HttpSensor
from airflow.providers.standard.hooks.filesystem import FSHook
from airflow.sdk import Asset, BaseOperator, Connection
from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from airflow.sdk.observability.stats import Stats
from airflow.sdk.timezone import utcnow

from airgate.notifiers import BRIDGE_CONN_ID, REQUESTED_AT_KEY, request_values

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow.sdk import Context
    from requests import Response

#: The DAG the bridge triggers for a ``trigger_dag`` signal (shipped in ``airgate/dags``); its ``decision``
#: task succeeds on approval and is skipped otherwise, which is what an ExternalTaskSensor waits for.
SIGNAL_DAG_ID = "airgate_approval_signal"
SIGNAL_TASK_ID = "decision"
#: The conf key (signal DAG runs) and extra key (asset events) under which the decision travels.
SIGNAL_KEY = "airgate_approval"
#: A filesystem (``fs``) connection whose ``path`` is the directory the bridge writes file signals to.
SIGNALS_CONN_ID = "airgate_signals"
#: A connection to the bridge's store, read through its ``approval_status`` view.
STORE_CONN_ID = "airgate_store"


class Decider(TypedDict):
    user: str
    option: str
    reason: str | None
    channel: str
    at: str


class ApprovalSignal(TypedDict):
    """The decision as every signal carries it (and ``GET /api/v1/signals/approvals`` returns it)."""

    approval_id: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    #: pending, approved, rejected, expired (a policy deadline) or cancelled.
    state: str
    option: str | None
    params_input: dict[str, Any]
    policy: str | None
    decided_at: str | None
    deciders: list[Decider]


def trigger_dag(dag_id: str = SIGNAL_DAG_ID) -> dict[str, str]:
    """Signal: trigger ``dag_id`` with the decision as conf, at the waiting run's logical date."""
    return {"kind": "trigger_dag", "dag_id": dag_id}


#: Signal: write ``<signals dir>/<dag_id>/<run_id>/<task_id>.json`` (see :func:`signal_file`).
FILE_SIGNAL: Mapping[str, str] = {"kind": "file"}


def asset_event(asset: Asset) -> dict[str, str]:
    """Signal: publish an event of ``asset`` with the decision in its extra, under ``airgate_approval``."""
    return {"kind": "asset_event", "uri": asset.uri}


def _bridge(path: str, conn_id: str, body: dict[str, Any] | None = None) -> Any:
    conn = Connection.get(conn_id)
    request = urllib.request.Request(
        f"{conn.host.rstrip('/')}{path}",
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {conn.password}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class RequestApprovalOperator(BaseOperator):
    """
    Ask people for a decision that a sensor, not a HITL task, waits for.

    Registers an external approval with the bridge and returns its id (when it asked is its
    ``airgate_requested_at`` XCom, as for the HITL operators). The bridge's policies decide who
    may approve, as for any airgate approval; once decided (or at a policy deadline) the bridge publishes
    the ``signals``. Unlike the HITL operators' notifier, a failed registration fails the task (so its
    retries ask again): no HITL request exists for the bridge to find on its own.

    :param subject: What people are asked (templated).
    :param body: Markdown details (templated).
    :param signals: What the bridge publishes once decided: :func:`trigger_dag`, :data:`FILE_SIGNAL`,
        :func:`asset_event`; none when the sensor reads the bridge's store or API.
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
        ti = context["ti"]
        dag_run = context["dag_run"]
        # What an ExternalTaskSensor matches on: the logical date, or run_after for runs that have none.
        logical_date = context.get("logical_date") or dag_run.run_after
        signals = [
            {**s, "logical_date": logical_date.isoformat()} if s["kind"] == "trigger_dag" else s
            for s in self.signals
        ]
        approval = _bridge(
            "/api/v1/approvals",
            self.conn_id,
            {
                "dag_id": ti.dag_id,
                "run_id": ti.run_id,
                "task_id": ti.task_id,
                "map_index": ti.map_index,
                "try_number": ti.try_number,
                "subject": self.subject,
                "body": self.body,
                "options": self.options,
                "requester": dag_run.triggering_user_name,
                "tags": sorted(context["dag"].tags or []),
                "values": request_values(context, {}),
                "external": True,
                "signals": signals,
            },
        )
        ti.xcom_push(key=REQUESTED_AT_KEY, value=utcnow().isoformat())
        self.log.info("airgate: external approval %s registered; signals: %s", approval["id"], signals)
        return str(approval["id"])


def approval_status(
    dag_id: str, run_id: str, task_id: str, conn_id: str = BRIDGE_CONN_ID
) -> ApprovalSignal | None:
    """
    The bridge's answer to ``GET /api/v1/signals/approvals`` for one task's approval, authenticated with
    the service token of ``conn_id``; None while the bridge has no approval for it (404).
    """
    query = urllib.parse.urlencode({"dag_id": dag_id, "run_id": run_id, "task_id": task_id})
    try:
        status: ApprovalSignal = _bridge(f"/api/v1/signals/approvals?{query}", conn_id)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    return status


def signal_file(task_id: str) -> str:
    """The FileSensor ``filepath`` (a template, relative to the signals connection) of ``task_id``'s file."""
    return f"{{{{ dag.dag_id }}}}/{{{{ run_id }}}}/{task_id}.json"


def signal_path(dag_id: str, run_id: str, task_id: str, conn_id: str = SIGNALS_CONN_ID) -> Path:
    """Where the bridge writes the file signal of one task."""
    return Path(FSHook(fs_conn_id=conn_id).get_path()) / dag_id / run_id / f"{task_id}.json"


def read_signal_file(path: Path) -> ApprovalSignal:
    signal: ApprovalSignal = json.loads(path.read_text())
    return signal


def remove_signal_file(path: Path) -> None:
    """Delete a consumed file signal and the run's directory once it is empty."""
    path.unlink(missing_ok=True)
    if path.parent.is_dir() and not any(path.parent.iterdir()):
        path.parent.rmdir()


def query_store(
    sql: str, parameters: Mapping[str, Any], conn_id: str = STORE_CONN_ID
) -> list[tuple[Any, ...]]:
    """
    Run a read-only query on the bridge's store through the connection ``conn_id``, with the same hook
    :class:`ApprovalRecordSensor` polls with (``sqlite`` for the default store, ``postgres`` in production).
    """
    rows: list[tuple[Any, ...]] = Connection.get(conn_id).get_hook().get_records(sql, dict(parameters))
    return rows


def count_poke(sensor: str, outcome: str) -> None:
    """Count one sensor poke in Airflow's metrics: ``airgate.sensor.<sensor>.<outcome>``."""
    Stats.incr(f"airgate.sensor.{sensor}.{outcome}")


#: Final states other than approved: a sensor waiting for an approval gives up (and skips) on them.
REFUSED_STATES = frozenset({"rejected", "expired", "cancelled"})


class ApprovalRecordSensor(SqlSensor):
    """
    ``SqlSensor`` on the bridge's store: polls a query over the read-only ``approval_status`` view through an
    Airflow connection, succeeds on an approved record and skips (with its downstream) on a refused one or
    at the timeout, counting every poke in Airflow's metrics (``airgate.sensor.<task_id>.{pending,found,refused}``).

    :param sql: Query whose first row is the record; ``success``/``failure`` get that whole row.
    :param success: Whether the row approves (e.g. approved with enough counted votes).
    :param failure: Whether the row refuses; checked first.
    :param conn_id: Connection to the store (``sqlite`` for the default store, ``postgres`` in production).
    """

    def __init__(
        self,
        *,
        sql: str,
        success: Callable[[tuple[Any, ...]], bool],
        failure: Callable[[tuple[Any, ...]], bool],
        conn_id: str = STORE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            conn_id=conn_id,
            sql=sql,
            success=success,
            failure=failure,
            selector=tuple,
            soft_fail=True,
            **kwargs,
        )

    def poke(self, context: Context) -> bool:
        try:
            done = bool(super().poke(context))
        except AirflowException as refused:
            # SqlSensor raises on its failure criterion; soft_fail only skips on timeouts, so skip here.
            count_poke(self.task_id, "refused")
            raise AirflowSkipException(str(refused)) from refused
        count_poke(self.task_id, "found" if done else "pending")
        return done


def _approved_response(response: Response) -> bool:
    state = response.json()["state"]
    if state in REFUSED_STATES:
        raise AirflowSkipException(f"the approval is {state}")
    return bool(state == "approved")


class ApprovalStatusSensor(HttpSensor):
    """
    ``HttpSensor`` on the bridge's status API (``GET /api/v1/signals/approvals``) for the approval that
    ``request_task_id`` asked for in this run, authenticated with the service token of ``http_conn_id``.
    Pending (or not registered yet: 404) pokes again; approved succeeds; a refusal skips (``soft_fail``).

    :param request_task_id: The task that requested the approval (a :class:`RequestApprovalOperator`).
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
