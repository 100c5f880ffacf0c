"""Every reference DAG imports cleanly on the installed Airflow and matches its catalogue entry."""

from __future__ import annotations

import ast
import re
from pathlib import Path

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


def test_every_dag_of_the_catalogue_exists() -> None:
    missing = sorted(name for name in catalogue_entries() if not (DAGS_FOLDER / name).exists())
    assert missing == [], f"catalogue DAGs without a file: {missing}"


@pytest.mark.parametrize(
    "name", sorted(n for n in catalogue_entries() if n.startswith(("120_09_", "120_10_")))
)
def test_dags_of_sections_9_and_10_have_kit_tests_and_real_stack_scenarios(name: str) -> None:
    kit = Path(__file__).parent / "reference_dags" / f"test_{name}"
    assert kit.exists() and "airgate.testing" in kit.read_text(), f"{name} needs its kit tests in {kit}"
    scenarios = Path(__file__).resolve().parents[2] / "test" / "integration"
    dag_id = name.removesuffix(".py")
    assert any(dag_id in f.read_text() for f in scenarios.glob("*.test.ts")), (
        f"{dag_id} has no real-stack scenario"
    )


def present(section: int) -> list[str]:
    prefix = f"120_0{section}_"
    return sorted(
        name for name in catalogue_entries() if name.startswith(prefix) and (DAGS_FOLDER / name).exists()
    )


@pytest.mark.parametrize("name", present(7))
def test_anti_pattern_dags_show_the_failure_and_the_fix(dagbag: DagBag, name: str) -> None:
    dag = dagbag.dags[name.removesuffix(".py")]
    assert "failure" in dag.tags
    assert "## The failure" in dag.doc_md and "## The fix" in dag.doc_md, (
        "doc must state the failure and the fix"
    )


@pytest.mark.parametrize("name", present(8))
def test_testing_dags_come_with_tests_that_use_the_kit(name: str) -> None:
    tests = Path(__file__).parent / "reference_dags" / f"test_{name}"
    assert tests.exists(), f"{name} needs its tests in {tests}"
    assert "airgate.testing" in tests.read_text()
