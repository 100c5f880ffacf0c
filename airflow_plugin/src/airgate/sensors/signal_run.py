"""An ExternalTaskSensor on the signal run the bridge triggers for one approval, matched by its run id."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from airflow.providers.standard.sensors.external_task import ExternalTaskSensor
from airflow.providers.standard.triggers.external_task import WorkflowTrigger
from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowException, AirflowSkipException

from airgate.signals import SIGNAL_DAG_ID, SIGNAL_TASK_ID, ApprovalSignal, signal_run_id

if TYPE_CHECKING:
    from airflow.sdk import Context


class ApprovalSignalRunSensor(ExternalTaskSensor):
    """
    Wait for the ``decision`` task of ``airgate_approval_signal`` in the run the bridge triggers for one approval.

    A plain ExternalTaskSensor matches the external run by logical date, so two waiting runs that share one (or
    any two DAGs' approvals at the same instant) would be released by each other's decision. This sensor matches
    the run id ``airgate__<approval id>`` instead, which only that approval's decision creates. Other keyword
    arguments go to ``ExternalTaskSensor`` and ``BaseSensorOperator`` (``mode``, ``poke_interval``, ``timeout``,
    ``soft_fail``, ``deferrable``, ``allowed_states``, ``skipped_states``, ``failed_states``, ...).

    Once approved, the sensor's XCom is the decision the signal run carries (an :class:`ApprovalSignal`: state,
    option, deciders), so downstream tasks read it from the sensor like any other airgate sensor.

    :param approval_id: The approval to wait for (templated; usually the request task's XCom).
    """

    # A list, as ExternalTaskSensor declares it (a tuple would not type-check against the base class).
    template_fields = [*ExternalTaskSensor.template_fields, "approval_id"]  # noqa: RUF012

    def __init__(self, *, approval_id: str, **kwargs: Any) -> None:
        kwargs.setdefault("allowed_states", ["success"])
        kwargs.setdefault("skipped_states", ["skipped"])
        kwargs.setdefault("failed_states", ["failed", "upstream_failed"])
        super().__init__(external_dag_id=SIGNAL_DAG_ID, external_task_id=SIGNAL_TASK_ID, **kwargs)
        self.approval_id = approval_id

    def _count(self, context: Context, states: list[str]) -> int:
        count: int = context["ti"].get_ti_count(
            dag_id=SIGNAL_DAG_ID,
            task_ids=[SIGNAL_TASK_ID],
            run_ids=[signal_run_id(self.approval_id)],
            states=states,
        )
        return count

    def _decision(self, context: Context) -> ApprovalSignal:
        signal: ApprovalSignal = context["ti"].xcom_pull(
            dag_id=SIGNAL_DAG_ID, run_id=signal_run_id(self.approval_id), task_ids=SIGNAL_TASK_ID
        )
        return signal

    def poke(self, context: Context) -> bool | PokeReturnValue:  # type: ignore[override]
        run_id = signal_run_id(self.approval_id)
        if self.failed_states and self._count(context, self.failed_states):
            message = f"the signal run {run_id} ended {'/'.join(self.failed_states)}"
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowException(message)
        if self.skipped_states and self._count(context, self.skipped_states):
            raise AirflowSkipException(f"approval {self.approval_id} was not approved (signal run {run_id})")
        self.log.info("Waiting for %s.%s in run %s", SIGNAL_DAG_ID, SIGNAL_TASK_ID, run_id)
        if not self._count(context, self.allowed_states):
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._decision(context))

    # ExternalTaskSensor declares None, but what execute returns is the task's XCom, which this sensor keeps.
    def execute(self, context: Context) -> ApprovalSignal | None:  # type: ignore[override]
        if not self.deferrable:
            # ExternalTaskSensor.execute only calls this, but drops the poke's XCom value.
            result: ApprovalSignal | None = BaseSensorOperator.execute(self, context)
            return result
        # The triggerer waits on the same run id (WorkflowTrigger filters by run_ids when given).
        self.defer(
            timeout=datetime.timedelta(seconds=self.timeout) if self.timeout else None,
            trigger=WorkflowTrigger(
                external_dag_id=SIGNAL_DAG_ID,
                external_task_ids=[SIGNAL_TASK_ID],
                allowed_states=self.allowed_states,
                failed_states=self.failed_states,
                skipped_states=self.skipped_states,
                poke_interval=self.poke_interval,
                soft_fail=self.soft_fail,
                run_ids=[signal_run_id(self.approval_id)],
                logical_dates=None,
                execution_dates=None,
            ),
            method_name="execute_complete",
        )

    def execute_complete(  # type: ignore[override]
        self, context: Context, event: dict[str, Any] | None = None
    ) -> ApprovalSignal:
        super().execute_complete(context, event)
        return self._decision(context)
