from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

# Airflow reads its configuration at import: give the tests a throwaway home before anything imports it.
_home = tempfile.mkdtemp(prefix="airgate-pytest-")
os.environ.setdefault("AIRFLOW_HOME", _home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
# dag.test() (the airgate.testing fixtures) writes the reference DAGs' bundle to the metadata database.
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(DAGS_FOLDER))

# airgate's fixtures (airgate_bridge, airflow_db, dag_test), loaded once the configuration above is in place.
pytest_plugins = ["airgate.testing.pytest_plugin"]
CATALOGUE = REPO_ROOT / "test" / "catalogue" / "000_4b02eda7a38e832e.txt"


@dataclass
class BridgeCall:
    method: str
    path: str
    #: Lower-cased names.
    headers: dict[str, str]
    body: bytes


@dataclass
class FakeBridge:
    """A real HTTP server standing in for the bridge: records every call, answers what a test sets."""

    url: str
    calls: list[BridgeCall] = field(default_factory=list)
    status: int = 200
    content_type: str = "application/json"
    body: bytes = b'{"items": [], "next_cursor": null}'
    headers: dict[str, str] = field(default_factory=dict)

    def answer(self, status: int, payload: object, content_type: str = "application/json") -> None:
        self.status, self.content_type = status, content_type
        self.body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()


@pytest.fixture
def bridge(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBridge]:
    """The ``airgate_bridge`` connection pointed at a :class:`FakeBridge` with service token ``svc-token``."""

    class Handler(BaseHTTPRequestHandler):
        def handle_one(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            fake.calls.append(
                BridgeCall(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
            )
            self.send_response(fake.status)
            self.send_header("Content-Type", fake.content_type)
            self.send_header("Content-Length", str(len(fake.body)))
            for name, value in fake.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(fake.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake = FakeBridge(url=f"http://127.0.0.1:{server.server_port}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn = {"conn_type": "http", "host": fake.url, "password": "svc-token"}
    monkeypatch.setenv("AIRFLOW_CONN_AIRGATE_BRIDGE", json.dumps(conn))
    yield fake
    server.shutdown()
    server.server_close()
