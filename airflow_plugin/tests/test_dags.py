"""Every reference DAG imports cleanly on the installed Airflow and matches its catalogue entry."""

from __future__ import annotations

import ast
import re

import pytest
from airflow.dag_processing.dagbag import DagBag

from conftest import CATALOGUE, DAGS_FOLDER


def catalogue_entries() -> dict[str, list[str]]:
    """Map each catalogue filename to its tags."""
    pattern = re.compile(r"Filename: `(?P<file>[^`]+)` \| Tags: `(?P<tags>\[[^\]]*\])`")
    return {m["file"]: ast.literal_eval(m["tags"]) for m in pattern.finditer(CATALOGUE.read_text())}


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_catalogue_lists_fifty_dags() -> None:
    assert len(catalogue_entries()) == 50


def test_dags_import_without_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) == len(list(DAGS_FOLDER.glob("[0-9]*.py")))


@pytest.mark.parametrize("path", sorted(DAGS_FOLDER.glob("[0-9]*.py")), ids=lambda p: p.name)
def test_dag_matches_catalogue(dagbag: DagBag, path) -> None:
    entries = catalogue_entries()
    assert path.name in entries, f"{path.name} is not in the catalogue"
    dag = dagbag.dags[path.stem]
    assert sorted(dag.tags) == sorted(entries[path.name])
    assert dag.doc_md and len(dag.doc_md) > 200, "doc_md must teach the pattern"


def test_every_dag_of_sections_1_to_5_exists() -> None:
    wanted = {name for name in catalogue_entries() if name[:6] in {f"120_0{n}" for n in range(1, 6)}}
    assert len(wanted) == 25
    missing = sorted(name for name in wanted if not (DAGS_FOLDER / name).exists())
    assert missing == [], f"catalogue DAGs without a file: {missing}"
