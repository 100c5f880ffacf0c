"""The decision record of one airgate approval: Airflow's answer joined with the bridge's record of who decided."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict
from urllib.parse import quote

from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook
from airgate.notifiers.bridge import REQUESTED_AT_KEY
from airgate.signals import ApprovalSignal, Decider, Delivery, Escalation


class DecisionRecord(TypedDict):
    """What a run keeps of one approval; the bridge's store and audit trail stay the system of record."""

    task_id: str
    #: The bridge's id of the approval; None when the bridge has no approval for the task.
    approval_id: str | None
    #: The bridge's state: approved, rejected, expired (a policy deadline decided), cancelled, pending (Airflow's
    #: own timeout answered first), or ``unknown`` when the bridge has no approval for the task.
    state: str
    policy: str | None
    #: Airflow's answer: the option and form input the task resumed with, None when it was never answered.
    option: str | None
    params_input: dict[str, Any]
    requested_at: str | None
    decided_at: str | None
    #: The Airflow user who answered: the bridge's service account, or None when Airflow's timeout chose.
    answered_by: str | None
    #: The people whose votes count, as the bridge verified and recorded them: user, option, reason, channel, time.
    deciders: list[Decider]
    #: The bridge's full record and its hash-chained audit trail (both read with a person's token).
    record_url: str | None
    audit_url: str | None


def _moment(value: datetime | str | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


def decision_record(
    task_id: str,
    decision: Mapping[str, Any] | None,
    requested_at: str | None,
    status: ApprovalSignal | None,
    bridge_url: str,
) -> DecisionRecord:
    """
    Join Airflow's answer to an approval task with the bridge's record of it.

    :param task_id: The approval task's id.
    :param decision: The task's XCom (``chosen_options``, ``params_input``, ``responded_at``,
        ``responded_by_user``), or None when it was never answered.
    :param requested_at: The task's ``airgate_requested_at`` XCom.
    :param status: The bridge's status of the task's approval (:meth:`airgate.hooks.bridge.BridgeHook.approval_status`).
    :param bridge_url: The bridge's base URL, for links to the record and audit trail.
    """
    responder = decision.get("responded_by_user") if decision else None
    approval_id = status["approval_id"] if status else None
    base = bridge_url.rstrip("/")
    return DecisionRecord(
        task_id=task_id,
        approval_id=approval_id,
        state=status["state"] if status else "unknown",
        policy=status["policy"] if status else None,
        option=decision["chosen_options"][0] if decision else None,
        params_input=dict(decision.get("params_input") or {}) if decision else {},
        requested_at=requested_at,
        decided_at=_moment(decision.get("responded_at")) if decision else None,
        answered_by=responder["name"] if responder else None,
        deciders=list(status["deciders"]) if status else [],
        record_url=f"{base}/api/v1/approvals/{quote(approval_id)}" if approval_id else None,
        audit_url=f"{base}/api/v1/audit?approval_id={quote(approval_id)}" if approval_id else None,
    )


def decision_record_of(ti: Any, task_id: str, conn_id: str = BRIDGE_CONN_ID) -> DecisionRecord:
    """
    The decision record of this run's approval task ``task_id``: its XComs, and the bridge's status of its
    approval read with the service token of ``conn_id`` (whose host is the bridge's URL).

    :param ti: The running task instance (``context["ti"]``).
    :param task_id: The approval task's id.
    :param conn_id: The connection that points at the bridge.
    """
    bridge = BridgeHook(conn_id)
    return decision_record(
        task_id,
        ti.xcom_pull(task_ids=task_id),
        ti.xcom_pull(task_ids=task_id, key=REQUESTED_AT_KEY),
        bridge.approval_status(ti.dag_id, ti.run_id, task_id),
        bridge.get_connection(conn_id).host or "",
    )


#: The bridge's states in which an approval is settled for good.
FINAL_STATES = ("approved", "rejected", "expired", "bypassed")


def disagreements(answer: Mapping[str, Any] | None, status: ApprovalSignal | None) -> list[str]:
    """
    Where Airflow's answer to an approval task and the bridge's record of the same approval disagree: the
    bridge not settled, another option, or a people's decision that names nobody. Empty when they agree.

    :param answer: The approval task's XCom (``chosen_options``, ...), None when it was never answered.
    :param status: The bridge's status of the task's approval, None when it has none.
    """
    airflow_option = answer["chosen_options"][0] if answer else None
    state = status["state"] if status else None
    bridge_option = status["option"] if status else None
    problems = []
    if state not in FINAL_STATES:
        problems.append(f"the bridge's approval is {state}, not final")
    if bridge_option != airflow_option:
        problems.append(f"Airflow resumed with {airflow_option}, the bridge chose {bridge_option}")
    if status and state in ("approved", "rejected") and not status["deciders"]:
        problems.append("a person's decision names no person")
    return problems


def escalations_of(ti: Any, task_id: str, conn_id: str = BRIDGE_CONN_ID) -> list[Escalation]:
    """
    Who the bridge's escalations added to this run's approval task ``task_id``, oldest first: the chain a
    run keeps beside its decision record.

    :param ti: The running task instance (``context["ti"]``).
    :param task_id: The approval task's id.
    :param conn_id: The connection that points at the bridge.
    """
    return BridgeHook(conn_id).escalations(ti.dag_id, ti.run_id, task_id)


def deliveries_of(ti: Any, task_id: str, conn_id: str = BRIDGE_CONN_ID) -> list[Delivery]:
    """
    How the bridge told people about this run's approval task ``task_id``: every delivery of its messages,
    oldest first, per channel and recipient, with attempts, errors and the fallbacks that took over.

    :param ti: The running task instance (``context["ti"]``).
    :param task_id: The approval task's id (or the task that requested an external approval).
    :param conn_id: The connection that points at the bridge.
    """
    return BridgeHook(conn_id).deliveries(ti.dag_id, ti.run_id, task_id)
