"""
Test airgate DAGs without people and without a bridge.

Decisions (:func:`approve`, :func:`reject`, :func:`choose`, :func:`expire`, :func:`timeout`) say what the
approvers do; :func:`run_with_decisions` runs ``dag.test()`` and answers each approval task with its
decision the moment it parks in ``awaiting_input``, exactly as Airflow's HITL API (or its timeout sweep)
would; a :class:`SimulatedBridge` records what the DAG registered and reports the deciders to the DAG's own
reads of the bridge. The pytest fixtures ``airgate_bridge``, ``airflow_db`` and ``dag_test`` (from
:mod:`airgate.testing.pytest_plugin`: name it in ``pytest_plugins`` in your ``conftest.py``) put them together.
Install with the ``testing`` extra (``pip install airgate[testing]``) for pytest.
"""

from airgate.testing.bridge import SimulatedBridge, simulated_bridge
from airgate.testing.dag_test import DecisionKey, answer_parked_task, decisions_for, run_with_decisions
from airgate.testing.decisions import Decision, approve, choose, expire, reject, timeout
from airgate.testing.results import RunResult

__all__ = [
    "Decision",
    "DecisionKey",
    "RunResult",
    "SimulatedBridge",
    "answer_parked_task",
    "approve",
    "choose",
    "decisions_for",
    "expire",
    "reject",
    "run_with_decisions",
    "simulated_bridge",
    "timeout",
]
