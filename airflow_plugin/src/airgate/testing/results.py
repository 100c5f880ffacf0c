"""What a test asserts on after ``dag.test()``: the run's state, each task's state, and their XComs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunResult:
    """
    A finished test run, read back from Airflow's metadata database.

    :param run: The DagRun ``dag.test()`` returned.
    :param state: The run's final state.
    :param tasks: Task id -> final state (None for a task that never ran).
    """

    run: Any
    state: str
    tasks: dict[str, str | None]

    @classmethod
    def of(cls, run: Any) -> RunResult:
        return cls(
            run=run,
            state=str(run.state),
            tasks={ti.task_id: (str(ti.state) if ti.state else None) for ti in run.get_task_instances()},
        )

    def xcom(self, task_id: str, key: str = "return_value") -> Any:
        """The XCom ``key`` a task pushed in this run, None when it pushed none."""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.scalars(
                XComModel.get_many(run_id=self.run.run_id, key=key, task_ids=task_id, dag_ids=self.run.dag_id)
            ).first()
            return None if row is None else XComModel.deserialize_value(row)

    def followed(self, task_id: str) -> list[str]:
        """The task ids a branching task followed (Airflow records them under ``skipmixin_key``)."""
        branched = self.xcom(task_id, key="skipmixin_key") or {}
        return list(branched.get("followed") or [])
