"""
pytest fixtures of :mod:`airgate.testing`. Load them from a ``conftest.py`` with
``pytest_plugins = ["airgate.testing.pytest_plugin"]``, after setting ``AIRFLOW_HOME`` and the rest of the
test configuration: Airflow reads its configuration when first imported, which loading this module does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airgate.testing.bridge import SimulatedBridge, simulated_bridge


@pytest.fixture
def airgate_bridge(monkeypatch: pytest.MonkeyPatch) -> Iterator[SimulatedBridge]:
    """
    A :class:`SimulatedBridge`, with the ``airgate_bridge`` connection pointed at it for the test, and the
    ``airgate_store`` connection at its store.
    """
    with simulated_bridge() as bridge:
        conn = {"conn_type": "http", "host": bridge.url, "password": "simulated-service-token"}
        monkeypatch.setenv("AIRFLOW_CONN_AIRGATE_BRIDGE", json.dumps(conn))
        store = {"conn_type": "sqlite", "host": str(bridge.store)}
        monkeypatch.setenv("AIRFLOW_CONN_AIRGATE_STORE", json.dumps(store))
        yield bridge


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's metadata database, created once per test session (``dag.test()`` needs one)."""
    from airflow.utils import db

    db.initdb()


@pytest.fixture
def dag_test(airflow_db: None, airgate_bridge: SimulatedBridge) -> Any:
    """
    ``dag_test(dag, {task_id: decision}, run_conf=None)``: runs ``dag.test()`` against the simulated bridge
    with those decisions and returns the :class:`~airgate.testing.RunResult` (final state, task states, XComs).
    """
    from airgate.testing.dag_test import run_with_decisions
    from airgate.testing.results import RunResult

    def run(dag: Any, decisions: Any, run_conf: dict[str, Any] | None = None) -> RunResult:
        return RunResult.of(run_with_decisions(dag, decisions, bridge=airgate_bridge, run_conf=run_conf))

    return run
