"""A reference DAG's own working state: a folder and SQLite files in Airflow's home."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path


def workspace(name: str) -> Path:
    """
    The folder ``airgate-<name>`` in Airflow's home, created if missing: one per Airflow deployment, so the dev
    stack, the test stack and ``dag.test()`` keep apart.
    """
    path = Path(os.environ.get("AIRFLOW_HOME", tempfile.gettempdir())) / f"airgate-{name}"
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def local_db(name: str, file: str, *schema: str) -> Iterator[sqlite3.Connection]:
    """
    The SQLite file ``file`` in :func:`workspace` ``name``, in one transaction: committed when the block ends,
    rolled back when it raises. ``schema`` statements (``CREATE TABLE IF NOT EXISTS ...``) run first.
    """
    with closing(sqlite3.connect(workspace(name) / file, timeout=30)) as db, db:
        for statement in schema:
            db.execute(statement)
        yield db
