"""The approval signal DAG: the bridge triggers it when an approval that asked for a ``trigger_dag`` signal is decided."""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from airgate.signals import PASSED_STATES, SIGNAL_DAG_ID, SIGNAL_KEY, SIGNAL_TASK_ID, ApprovalSignal

DOC = """
# airgate approval signal

Shipped with airgate (its own DAG bundle, so the reference DAGs keep one DAG per file). The bridge triggers
a run of this DAG when an approval that asked for a `trigger_dag` signal is decided: its id is
`airgate__<approval id>`, it has no logical date, and its conf is `{"airgate_approval": {...}}` (state, option,
deciders, reasons, times). The `decision` task succeeds on approval and is skipped otherwise, so
`airgate.ApprovalSignalRunSensor` (an ExternalTaskSensor matching that run id) continues or skips. A run id, not
a logical date: approvals of runs that share a logical date would otherwise release each other.

A person can signal by hand too (Trigger DAG, run id `airgate__<approval id>`, that conf): Airflow's audit log
then says who, the bridge does not.
"""


@dag(dag_id=SIGNAL_DAG_ID, schedule=None, catchup=False, doc_md=DOC, tags=["airgate"])
def approval_signal() -> None:
    @task(task_id=SIGNAL_TASK_ID)
    def decision(dag_run: Any = None) -> ApprovalSignal:
        signal: ApprovalSignal = (dag_run.conf or {})[SIGNAL_KEY]
        if signal["state"] not in PASSED_STATES:
            raise AirflowSkipException(f"approval {signal['approval_id']} is {signal['state']}")
        return signal

    decision()


approval_signal()
