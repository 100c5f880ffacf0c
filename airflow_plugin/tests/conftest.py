from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Airflow reads its configuration at import: give the tests a throwaway home before anything imports it.
_home = tempfile.mkdtemp(prefix="airgate-pytest-")
os.environ.setdefault("AIRFLOW_HOME", _home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
CATALOGUE = REPO_ROOT / "test" / "catalogue" / "000_4b02eda7a38e832e.txt"
