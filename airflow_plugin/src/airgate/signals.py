"""
What the bridge publishes once people decide an external approval: the signals a request names (a DAG run,
a file, an asset event), the decision every signal carries (:class:`ApprovalSignal`), and the helpers a task
uses to find and consume a file signal.

The request is :class:`airgate.operators.external.RequestApprovalOperator`; the sensors that wait without a
signal read the bridge's store (:mod:`airgate.sensors.store`) or its status API (:mod:`airgate.sensors.status`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypedDict

from airflow.providers.standard.hooks.filesystem import FSHook
from airflow.sdk import Asset

#: The DAG the bridge triggers for a ``trigger_dag`` signal (shipped in ``airgate/dags``); its ``decision``
#: task succeeds on approval and is skipped otherwise, which is what an ExternalTaskSensor waits for.
SIGNAL_DAG_ID = "airgate_approval_signal"
SIGNAL_TASK_ID = "decision"
#: The conf key (signal DAG runs) and extra key (asset events) under which the decision travels.
SIGNAL_KEY = "airgate_approval"
#: A filesystem (``fs``) connection whose ``path`` is the directory the bridge writes file signals to.
SIGNALS_CONN_ID = "airgate_signals"


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
    #: The approval's deadline (the earlier of the policy's and Airflow's timeout): what its SLA is measured against.
    due_at: str | None
    deciders: list[Decider]


class Escalation(TypedDict):
    """One approver an escalation added while an approval waited (``GET /api/v1/signals/escalations``)."""

    #: The approval's level the approver joined.
    level: int
    #: The policy's escalation step (0-based); -1 when the deadline escalated.
    step: int
    #: A user name, or ``role:NAME``.
    approver: str
    reason: str
    at: str


class Delivery(TypedDict):
    """
    One attempt-tracked send of one of an approval's messages on one channel (``GET /api/v1/signals/deliveries``).
    Every message has a ``messages`` delivery, sent by being stored (the UI's inbox), besides its policy's channels.
    """

    id: int
    recipient: str
    #: messages, email, slack, teams or webhook.
    channel: str
    #: queued, sent or failed (given up on: a fallback, when there is one, took over).
    state: str
    attempts: int
    last_error: str | None
    #: When the message was queued on this channel.
    created_at: str
    sent_at: str | None
    #: The failed delivery this one took over from, as the policy's fallback channel.
    fallback_of: int | None


class AuditEntry(TypedDict):
    """One entry of the bridge's hash-chained audit trail, as an export carries it."""

    seq: int
    at: str
    #: A person, ``system``, or the service account.
    actor: str
    #: ``noun.verb``: ``approval.registered``, ``vote.recorded``, ``approval.decided``, ...
    action: str
    channel: str | None
    approval_id: str | None
    reason: str | None
    details: dict[str, Any]
    prev_hash: str
    hash: str
    #: Whether the chain was intact up to this entry when it was exported.
    chain_verified: bool


class AuditEvidence(TypedDict):
    """
    One task's approval's audit entries with the whole chain verified at export time
    (``GET /api/v1/signals/audit``): what a DAG files with its run as evidence of who decided.
    """

    exported_at: str
    exported_by: str
    filters: dict[str, Any]
    #: ``{"ok": bool, "checked": int, "first_bad_seq": int | None, "problem": str | None, ...}``.
    verification: dict[str, Any]
    count: int
    entries: list[AuditEntry]


def trigger_dag(dag_id: str = SIGNAL_DAG_ID) -> dict[str, str]:
    """
    Signal: trigger ``dag_id`` with the decision as conf, as run :func:`signal_run_id` (no logical date); wait
    for it with :class:`airgate.sensors.signal_run.ApprovalSignalRunSensor`.
    """
    return {"kind": "trigger_dag", "dag_id": dag_id}


def signal_run_id(approval_id: str) -> str:
    """The run id of the signal run the bridge triggers for an approval: unique to it, unlike a logical date."""
    return f"airgate__{approval_id}"


#: Signal: write ``<signals dir>/<dag_id>/<run_id>/<task_id>.json`` (see :func:`signal_file`).
FILE_SIGNAL: Mapping[str, str] = {"kind": "file"}


def asset_event(asset: Asset) -> dict[str, str]:
    """Signal: publish an event of ``asset`` with the decision in its extra, under ``airgate_approval``."""
    return {"kind": "asset_event", "uri": asset.uri}


#: Final states other than approved: a sensor waiting for an approval gives up (and skips) on them.
REFUSED_STATES = frozenset({"rejected", "expired", "cancelled"})
#: States that let what waits go on: approved by the policy, or bypassed with break-glass (the bridge records who
#: broke the glass, why, and opens a review).
PASSED_STATES = frozenset({"approved", "bypassed"})


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
