"""Operators DAG authors use to ask people for a decision, built on Airflow's native HITL operators."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.operators.hitl import ApprovalOperator, HITLBranchOperator, HITLOperator
from airflow.providers.standard.triggers.hitl import HITLTriggerEventSuccessPayload
from airflow.sdk import BaseNotifier
from airflow.sdk.exceptions import DownstreamTasksSkipped

from airgate.hooks.bridge import BridgeHook
from airgate.notifiers.bridge import BridgeRegistrationNotifier, RequestTimeNotifier
from airgate.receipts import RECEIPT_XCOM_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context

# The bridge answers every airgate HITL task with this Airflow user. Being the only assigned user is what
# stops Airflow's own Required Actions form from bypassing the bridge's rules (quorum, levels, self-approval).
SERVICE_ACCOUNT = os.environ.get("AIRGATE_SERVICE_ACCOUNT", "airgate")
#: Seconds a resuming task waits for its receipt: the bridge answers in milliseconds when it is up.
RECEIPT_TIMEOUT = 5

log = logging.getLogger(__name__)


def bridge_decides(arguments: dict[str, Any]) -> dict[str, Any]:
    """
    The keyword arguments of an airgate HITL operator, made ready for Airflow's HITL base classes.

    Every airgate operator goes through this one place: the bridge's service account becomes the only
    assigned user, and the request is registered with the bridge (and its time recorded) before any
    notifier of the DAG's own.

    :param arguments: The operator's keyword arguments; its ``notifiers`` are kept after airgate's own.
    :raises ValueError: when ``assigned_users`` is given: approvers come from the bridge's policies.
    """
    if "assigned_users" in arguments:
        raise ValueError("airgate assigns its service account; approvers come from the bridge's policies")
    own: list[BaseNotifier] = list(arguments.pop("notifiers", None) or [])
    return {
        **arguments,
        "assigned_users": [{"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT}],
        "notifiers": [BridgeRegistrationNotifier(), RequestTimeNotifier(), *own],
    }


def _decision(event: dict[str, Any]) -> HITLTriggerEventSuccessPayload:
    return HITLTriggerEventSuccessPayload(
        chosen_options=event["chosen_options"],
        params_input=event["params_input"] or {},
        responded_at=event["responded_at"],
        responded_by_user=event["responded_by_user"],
    )


def keep_receipt(context: Context) -> None:
    """
    Push the decision's signed receipt, read from the bridge with the service token, as XCom
    :data:`~airgate.receipts.RECEIPT_XCOM_KEY`. The receipt is evidence, not the decision: when the bridge
    cannot be reached or has none (Airflow's own timeout answered), a warning is logged and nothing is pushed,
    and the task goes on.

    :param context: The resumed task's context.
    """
    ti = context["ti"]
    try:
        receipt = BridgeHook().receipt(
            ti.dag_id,
            ti.run_id,
            ti.task_id,
            ti.map_index if ti.map_index is not None else -1,
            timeout=RECEIPT_TIMEOUT,
        )
    # Whatever stops the read (no connection, the bridge down, a bad answer) must not fail a decided task.
    except Exception as err:
        log.warning("airgate: could not read the decision's receipt from the bridge: %s", err)
        return
    if receipt is None:
        log.warning("airgate: the bridge holds no receipt for this decision (yet); none is kept")
        return
    ti.xcom_push(key=RECEIPT_XCOM_KEY, value=receipt)


def keep_decision(
    resume: Callable[[Context, dict[str, Any]], Any], context: Context, event: dict[str, Any]
) -> HITLTriggerEventSuccessPayload:
    """
    Resume an answered HITL task and make sure its XCom is the decision, whichever path it took, with the
    decision's receipt beside it (:func:`keep_receipt`).

    Skipping downstream tasks (a rejection, the branches not chosen) ends ``execute_complete`` with
    ``DownstreamTasksSkipped``, so Airflow never pushes what it would have returned; the decision is pushed
    here first, so downstream tasks (rollbacks, reports, metrics) find it on every path.

    :param resume: The HITL base class's ``execute_complete``: validates the answer, skips what it must.
    :param context: The task's context.
    :param event: The response Airflow resumed the task with.
    """
    if "error" not in event:
        keep_receipt(context)
    try:
        resume(context, event)
    except DownstreamTasksSkipped:
        context["ti"].xcom_push(key="return_value", value=_decision(event))
        raise
    return _decision(event)


class AirgateApprovalOperator(ApprovalOperator):
    """
    Ask for an Approve/Reject decision that people make through airgate (UI, Slack, email, ...).

    The task waits in Airflow's ``awaiting_input`` state, holding no worker slot, until the bridge
    answers it or ``response_timeout`` passes. On "Reject" the direct downstream tasks are skipped. The
    task's XCom is the decision on both paths. Who may decide is the bridge's policies' business:
    ``assigned_users`` is refused. Other keyword arguments go to ``ApprovalOperator`` and ``BaseOperator``.

    :param subject: What people are asked (templated).
    :param body: Markdown details that help them decide (templated).
    :param defaults: The option Airflow takes when ``response_timeout`` passes unanswered.
    :param params: A form people fill in with their decision (Airflow params); the input lands in the XCom.
    :param response_timeout: How long Airflow waits for the answer; None waits until someone decides.
    :param notifiers: The DAG's own notifiers, called after airgate's registration with the bridge.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**bridge_decides(kwargs))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return keep_decision(super().execute_complete, context, event)


class AirgateBranchOperator(HITLBranchOperator):
    """
    Ask people to choose a path: each option leads to the downstream task it maps to, the others are skipped.

    Unlike Airflow's ``HITLBranchOperator``, every option must be mapped, so a renamed option or task
    fails when the DAG is parsed instead of branching into a task that does not exist; and the task's
    XCom is the decision (``chosen_options``, ``params_input``, ``responded_at``, ``responded_by_user``),
    like every airgate operator's, not the list of task ids it branched into. ``assigned_users`` is
    refused; other keyword arguments go to ``HITLBranchOperator`` and ``BaseOperator``.

    :param subject: What people are asked (templated).
    :param options: The choices, one button each.
    :param options_mapping: Option label -> the downstream task id it runs, one entry per option.
    :param body: Markdown details that help them decide (templated).
    :param defaults: The option(s) Airflow takes when ``response_timeout`` passes unanswered.
    :param params: A form people fill in with their decision (Airflow params); the input lands in the XCom.
    :param response_timeout: How long Airflow waits for the answer; None waits until someone decides.
    :param notifiers: The DAG's own notifiers, called after airgate's registration with the bridge.
    """

    def __init__(self, *, options_mapping: dict[str, str], **kwargs: Any) -> None:
        super().__init__(options_mapping=options_mapping, **bridge_decides(kwargs))
        if unmapped := [option for option in self.options if option not in self.options_mapping]:
            raise ValueError(f"every option needs a task in options_mapping; missing: {unmapped}")

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return keep_decision(super().execute_complete, context, event)


class AirgateHITLOperator(HITLOperator):
    """
    Ask people for any choice among custom options (the buttons they see), with an optional form.

    The task does not branch: the chosen options and the validated form input land in its XCom,
    ``{chosen_options, params_input, responded_at, responded_by_user}``, for downstream tasks to act on.
    ``assigned_users`` is refused; other keyword arguments go to ``HITLOperator`` and ``BaseOperator``.

    :param subject: What people are asked (templated).
    :param options: The choices, one button each.
    :param body: Markdown details that help them decide (templated).
    :param defaults: The option(s) Airflow takes when ``response_timeout`` passes unanswered.
    :param multiple: Whether people may choose several options.
    :param params: A form people fill in with their decision (Airflow params); the input lands in the XCom.
    :param response_timeout: How long Airflow waits for the answer; None waits until someone decides.
    :param notifiers: The DAG's own notifiers, called after airgate's registration with the bridge.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**bridge_decides(kwargs))

    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        return keep_decision(super().execute_complete, context, event)
