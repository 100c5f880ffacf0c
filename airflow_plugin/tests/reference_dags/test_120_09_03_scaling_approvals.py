"""120_09_03_scaling_approvals with airgate.testing: every batch decided on its own, urgent and routine queues apart."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.dag_processing.dagbag import DagBag

from airgate.testing import approve, reject

from conftest import DAGS_FOLDER

DAG_ID = "120_09_03_scaling_approvals"


@pytest.fixture(scope="module")
def dag() -> Any:
    return DagBag(dag_folder=str(DAGS_FOLDER / f"{DAG_ID}.py")).dags[DAG_ID]


def test_the_queues_take_their_priority_and_the_processing_is_throttled(dag: Any) -> None:
    assert dag.get_task("approve_urgent").priority_weight > dag.get_task("approve_routine").priority_weight
    assert dag.get_task("process_urgent").max_active_tis_per_dagrun == 2


def test_each_batch_is_decided_on_its_own(dag: Any, dag_test: Any) -> None:
    # Seed 3 gives four urgent batches (1, 2, 3, 5) and two routine ones (0, 4).
    decisions = {
        ("approve_urgent", 0): approve(by="bob"),
        ("approve_urgent", 1): reject(by="carol", reason="duplicate invoice"),
        ("approve_urgent", 2): approve(by="bob"),
        ("approve_urgent", 3): approve(by="carol"),
        ("approve_routine", 0): approve(by="bob"),
        ("approve_routine", 1): reject(by="bob", reason="supplier on hold"),
    }
    result = dag_test(dag, decisions, run_conf={"requests": 6, "seed": 3})

    queues = result.xcom("urgent_queue"), result.xcom("routine_queue")
    assert [len(q) for q in queues] == [4, 2]
    report = result.xcom("capacity_report")
    approved = [queues[0][0], queues[0][2], queues[0][3], queues[1][0]]
    assert report == {
        "requested": 6,
        "urgent": 4,
        "routine": 2,
        "approved": 4,
        "rejected": 2,
        "paid": round(sum(sum(b["amounts"]) for b in approved), 2),
    }
    assert result.state == "success"
    # One processing per batch, with that batch's own decision: the rejected ones are skipped.
    processed = sorted(
        (ti.task_id, ti.map_index, str(ti.state))
        for ti in result.run.get_task_instances()
        if ti.task_id.startswith("process_")
    )
    assert processed == [
        ("process_routine", 0, "success"),
        ("process_routine", 1, "skipped"),
        ("process_urgent", 0, "success"),
        ("process_urgent", 1, "skipped"),
        ("process_urgent", 2, "success"),
        ("process_urgent", 3, "success"),
    ]
