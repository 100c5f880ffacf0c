"""The fault suite's DAG: as many airgate approvals at once as a run's conf asks for (dynamically mapped).

Trigger with conf ``{"scenario": "votes", "count": 100}``: ``gate`` is mapped over ``count`` bodies, so one run
parks ``count`` HITL tasks in ``awaiting_input``; the bridge's policy for the run is chosen by ``scenario``
(``policies.yaml`` beside this file). ``after_gate`` runs once per approved gate, so the run's task states
show that every decision resumed its task.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator


@dag(
    dag_id="fault_gates",
    schedule=None,
    catchup=False,
    params={"scenario": "votes", "count": 1},
    max_active_runs=16,
    # The suite breaks parts of the stack on purpose, on a busy machine: a task that lost its api-server tries again.
    default_args={"retries": 3, "retry_delay": timedelta(seconds=5)},
    tags=["fault-suite"],
)
def fault_gates() -> None:
    @task
    def bodies(params: dict[str, object] | None = None) -> list[str]:
        assert params is not None
        return [f"{params['scenario']} gate {n}" for n in range(int(str(params["count"])))]

    gate = AirgateApprovalOperator.partial(
        task_id="gate",
        subject="Fault suite {{ params.scenario }} gate {{ ti.map_index }}",
        response_timeout=timedelta(hours=2),
        defaults="Reject",
    ).expand(body=bodies())

    @task
    def after_gate(decision: object) -> str:
        return "resumed"

    after_gate.expand(decision=gate.output)


fault_gates()
