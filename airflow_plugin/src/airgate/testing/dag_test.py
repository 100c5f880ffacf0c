"""Run a DAG with ``dag.test()`` and answer its approval tasks with simulated decisions, without a bridge."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from airflow.sdk.definitions import dag as dag_module

from airgate.testing.bridge import SimulatedBridge
from airgate.testing.decisions import Decision


def answer_parked_task(ti: Any, decision: Decision) -> None:
    """
    Answer a task instance parked in ``awaiting_input`` the way Airflow itself does: write the response on
    its HITL detail (a timeout writes the defaults, answered by nobody) and resume it with
    ``handle_event_submit``, exactly as the HITL PATCH route (airflow/api_fastapi/core_api/routes/public/
    hitl.py:222-247) and the scheduler's timeout sweep (airflow/jobs/scheduler_job_runner.py:3455-3490) do.
    The next turn of ``dag.test()``'s loop then runs the task's ``execute_complete``.

    :param ti: The parked task instance (``dag.test()``'s scheduler-side instance).
    :param decision: What to answer.
    """
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        locked = session.get(TaskInstance, ti.id, with_for_update=True)
        detail = session.scalar(select(HITLDetail).where(HITLDetail.ti_id == ti.id))
        if locked is None or detail is None:
            raise RuntimeError(f"{ti.task_id} is not a Human-in-the-loop task")
        event = decision.resume_event(detail.options, detail.defaults, detail.params or {})
        if "error" not in event:
            detail.chosen_options = event["chosen_options"]
            detail.params_input = event["params_input"]
            detail.responded_by = event["responded_by_user"]
            detail.responded_at = event["responded_at"]
            session.add(detail)
        handle_event_submit(TriggerEvent(event), task_instance=locked, session=session)  # type: ignore[no-untyped-call]


#: What a test decides for: a task id (every mapped instance of it), or a task id and one map index.
DecisionKey = str | tuple[str, int]
#: One decision for every try of a task, or one per try in order (a retry asks again).
Decisions = Decision | Sequence[Decision]


def decision_of(
    decisions: Mapping[DecisionKey, Decisions], task_id: str, map_index: int, asked: int = 0
) -> Decision | None:
    """
    The decision for one task instance: its own (``(task_id, map_index)``) first, else its task's; for a list,
    the one for the try that asks after ``asked`` earlier asks, None once the list is used up.
    """
    given = decisions.get((task_id, map_index)) or decisions.get(task_id)
    if given is None or isinstance(given, Decision):
        return given
    return given[asked] if asked < len(given) else None


@contextmanager
def decisions_for(
    decisions: Mapping[DecisionKey, Decisions], bridge: SimulatedBridge | None = None
) -> Iterator[list[str]]:
    """
    While the block runs, ``dag.test()`` answers each approval task named in ``decisions`` as soon as it
    parks in ``awaiting_input``, and tells ``bridge`` (when given) the outcome, so the DAG's own reads of the
    bridge (decision records, status sensors) see the deciders. ``dag.test()`` would otherwise wait for an
    answer from outside forever (airflow/sdk/definitions/dag.py:1413-1423). A task that registers an external
    approval (``RequestApprovalOperator``) is decided by its decision in ``decisions`` as it registers.

    Yields the task ids answered, in order (``task_id[map_index]`` for a mapped instance). A task that parks
    without a decision in ``decisions`` fails the test at once instead of hanging it.

    :param decisions: Task id, or ``(task_id, map_index)`` for one mapped instance -> its simulated decision,
        or a list of them, one per try (a task with retries asks again after a timeout without defaults).
    :param bridge: The simulated bridge the run's ``airgate_bridge`` connection points at.
    """
    from airflow.utils.state import TaskInstanceState

    run_task = dag_module._run_task
    answered: list[str] = []

    def run_and_answer(*, ti: Any, task: Any, run_triggerer: bool = False) -> Any:
        result = run_task(ti=ti, task=task, run_triggerer=run_triggerer)
        if ti.state == TaskInstanceState.AWAITING_INPUT:
            name = ti.task_id if ti.map_index < 0 else f"{ti.task_id}[{ti.map_index}]"
            decision = decision_of(decisions, ti.task_id, ti.map_index, answered.count(name))
            if decision is None:
                raise AssertionError(f"{name} asks for a decision the test did not give")
            if bridge is not None:
                bridge.decide(ti.dag_id, ti.run_id, ti.task_id, decision, map_index=ti.map_index)
            answer_parked_task(ti, decision)
            answered.append(name)
        return result

    if bridge is not None:
        bridge.plan(lambda task_id, map_index: decision_of(decisions, task_id, map_index))
    dag_module._run_task = run_and_answer
    try:
        yield answered
    finally:
        dag_module._run_task = run_task


def run_with_decisions(
    dag: Any,
    decisions: Mapping[DecisionKey, Decisions],
    *,
    bridge: SimulatedBridge | None = None,
    run_conf: dict[str, Any] | None = None,
) -> Any:
    """
    ``dag.test()`` with the approval tasks answered by ``decisions``; returns the finished DagRun.

    :param dag: The DAG under test.
    :param decisions: Task id, or ``(task_id, map_index)``, -> its simulated decision (:func:`approve`,
        :func:`reject`, :func:`expire`, :func:`timeout`, :func:`choose`), or a list of them, one per try.
    :param bridge: The simulated bridge the ``airgate_bridge`` connection points at, if any.
    :param run_conf: The run's conf.
    """
    with decisions_for(decisions, bridge):
        return dag.test(run_conf=run_conf)
