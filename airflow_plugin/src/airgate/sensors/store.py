"""Waiting on the bridge's store: a ``SqlSensor`` over its read-only ``approval_status`` view."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from airflow.providers.common.sql.sensors.sql import SqlSensor
from airflow.sdk import Connection, PokeReturnValue
from airflow.sdk.exceptions import AirflowSkipException
from airflow.sdk.timezone import utcnow

from airgate.metrics import count_poke

if TYPE_CHECKING:
    from airflow.sdk import Context

#: A connection to the bridge's store, read through its ``approval_status`` view.
STORE_CONN_ID = "airgate_store"


def query_store(
    sql: str, parameters: Mapping[str, Any], conn_id: str = STORE_CONN_ID
) -> list[tuple[Any, ...]]:
    """
    Run a read-only query on the bridge's store through the connection ``conn_id``, with the same hook
    :class:`ApprovalRecordSensor` polls with (``sqlite`` for the default store, ``postgres`` in production).
    """
    rows: list[tuple[Any, ...]] = Connection.get(conn_id).get_hook().get_records(sql, dict(parameters))
    return rows


class StoredApproval(TypedDict):
    """One approval of one task try, as the bridge's store keeps it (its ``approval_status`` view)."""

    approval_id: str
    try_number: int
    #: pending, approved, rejected, expired, cancelled or bypassed.
    state: str
    option: str | None
    created_at: str
    decided_at: str | None
    #: Counted votes.
    votes: int


_TRIES = """
SELECT id, try_number, state, outcome, created_at, decided_at, votes FROM approval_status
WHERE dag_id = :dag_id AND run_id = :run_id AND task_id = :task_id AND map_index = :map_index
ORDER BY try_number
"""


def approval_tries(
    dag_id: str, run_id: str, task_id: str, map_index: int = -1, conn_id: str = STORE_CONN_ID
) -> list[StoredApproval]:
    """
    Every approval one task instance asked for, one per try, oldest first: a retried or cleared task asks
    again, and only its last try's approval can still reach Airflow.

    :param dag_id: The DAG.
    :param run_id: The run.
    :param task_id: The approval task.
    :param map_index: The mapped instance; -1 when the task is not mapped.
    :param conn_id: Connection to the store.
    """
    key = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "map_index": map_index}
    return [
        StoredApproval(
            approval_id=str(approval_id),
            try_number=int(try_number),
            state=str(state),
            option=json.loads(outcome)["option"] if outcome else None,
            created_at=str(created_at),
            decided_at=None if decided_at is None else str(decided_at),
            votes=int(votes or 0),
        )
        for approval_id, try_number, state, outcome, created_at, decided_at, votes in query_store(
            _TRIES, key, conn_id
        )
    ]


class ApprovalRecordSensor(SqlSensor):
    """
    ``SqlSensor`` on the bridge's store: polls a query over the read-only ``approval_status`` view through an
    Airflow connection, succeeds on an approved record and skips (with its downstream) on a refused one or
    at the timeout, counting every poke in Airflow's metrics (``airgate.sensor.<task_id>.{pending,found,refused}``).
    Its XCom is what it found: ``{"record": [the row's values], "detected_at": ISO time of the poke}``, so what
    follows reads the record the sensor saw instead of querying again.

    :param sql: Query whose first row is the record; ``success``/``failure`` get that whole row.
    :param success: Whether the row approves (e.g. approved with enough counted votes).
    :param failure: Whether the row refuses; checked first.
    :param conn_id: Connection to the store (``sqlite`` for the default store, ``postgres`` in production).
    """

    def __init__(
        self,
        *,
        sql: str,
        success: Callable[[tuple[Any, ...]], bool],
        failure: Callable[[tuple[Any, ...]], bool],
        conn_id: str = STORE_CONN_ID,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            conn_id=conn_id,
            sql=sql,
            success=success,
            failure=failure,
            selector=tuple,
            soft_fail=True,
            **kwargs,
        )

    # SqlSensor types poke as bool; BaseSensorOperator takes a PokeReturnValue too (sdk/bases/sensor.py:230).
    # SqlSensor's own poke keeps the row to itself, so the same steps are taken here with the row kept.
    def poke(self, context: Context) -> bool | PokeReturnValue:  # type: ignore[override]
        records = query_store(self.sql, self.parameters or {}, self.conn_id)
        row = tuple(records[0]) if records else None
        if row is not None and self.failure is not None and self.failure(row):
            count_poke(self.task_id, "refused")
            raise AirflowSkipException(f"the record refuses: {row}")
        done = row is not None and self.success is not None and bool(self.success(row))
        count_poke(self.task_id, "found" if done else "pending")
        if not done:
            return False
        return PokeReturnValue(
            is_done=True, xcom_value={"record": list(row or ()), "detected_at": utcnow().isoformat()}
        )
