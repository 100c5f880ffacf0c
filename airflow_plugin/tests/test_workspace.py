"""A DAG's working state in Airflow's home: one folder per DAG, one transaction per block."""

from __future__ import annotations

from pathlib import Path

import pytest

from airgate.workspace import local_db, workspace


def test_the_workspace_lives_in_airflows_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert workspace("120_10_01") == tmp_path / "airgate-120_10_01"
    assert (tmp_path / "airgate-120_10_01").is_dir()


def test_a_block_commits_or_rolls_back_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    schema = "CREATE TABLE IF NOT EXISTS t (n INTEGER)"
    with local_db("d", "state.db", schema) as db:
        db.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(RuntimeError), local_db("d", "state.db", schema) as db:
        db.execute("INSERT INTO t VALUES (2)")
        raise RuntimeError("the task failed half-way")
    with local_db("d", "state.db", schema) as db:
        assert db.execute("SELECT n FROM t").fetchall() == [(1,)]
