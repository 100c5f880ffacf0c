"""The approval signal DAG: the bridge triggers it when an approval that asked for a ``trigger_dag`` signal is decided."""

from __future__ import annotations

from typing import Any

from airflow.sdk import dag, task
from airflow.sdk.exceptions import AirflowSkipException

from airgate.signals import SIGNAL_DAG_ID, SIGNAL_KEY, SIGNAL_TASK_ID, ApprovalSignal

DOC = """
# airgate approval signal

Shipped with airgate (its own DAG bundle, so the reference DAGs keep one DAG per file). The bridge triggers
a run of this DAG when an approval that asked for a `trigger_dag` signal is decided: the run's logical date is
the waiting run's, its id `airgate__<approval id>`, its conf `{"airgate_approval": {...}}` (state, option,
deciders, reasons, times). The `decision` task succeeds on approval and is skipped otherwise, so an
`ExternalTaskSensor` on it continues or skips.

A person can signal by hand too (Trigger DAG, with the waiting run's logical date, run id
`airgate__<approval id>` and that conf): Airflow's audit log then says who, the bridge does not.
"""


@dag(dag_id=SIGNAL_DAG_ID, schedule=None, catchup=False, doc_md=DOC, tags=["airgate"])
def approval_signal() -> None:
    @task(task_id=SIGNAL_TASK_ID)
    def decision(dag_run: Any = None) -> ApprovalSignal:
        signal: ApprovalSignal = (dag_run.conf or {})[SIGNAL_KEY]
        if signal["state"] != "approved":
            raise AirflowSkipException(f"approval {signal['approval_id']} is {signal['state']}")
        return signal

    decision()


approval_signal()
