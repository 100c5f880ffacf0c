"""A stand-in for the bridge on a local port: it records registrations and reports simulated decisions."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from airgate.signals import ApprovalSignal
from airgate.testing.decisions import Decision

#: dag_id, run_id, task_id, map_index.
TaskKey = tuple[str, str, str, int]


@dataclass
class SimulatedBridge:
    """
    Answers the two calls an airgate DAG makes to the bridge, over real HTTP through the ``airgate_bridge``
    connection: ``POST /api/v1/approvals`` (the notifier's registration, kept in :attr:`registrations`) and
    ``GET /api/v1/signals/approvals`` (what :func:`airgate.decision_record_of` and the status sensor read:
    pending once registered, then the simulated decision; 404 before registration).
    """

    url: str = ""
    #: Every registration body, in the order they came.
    registrations: list[dict[str, Any]] = field(default_factory=list)
    _ids: dict[TaskKey, str] = field(default_factory=dict)
    _decided: dict[TaskKey, Decision] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def registration(self, task_id: str, map_index: int = -1) -> dict[str, Any]:
        """The last registration of ``task_id`` (of one mapped instance); KeyError when it never registered."""
        for body in reversed(self.registrations):
            if body["task_id"] == task_id and body.get("map_index", -1) == map_index:
                return dict(body)
        raise KeyError(f"{task_id} never registered an approval")

    def decide(
        self, dag_id: str, run_id: str, task_id: str, decision: Decision, *, map_index: int = -1
    ) -> None:
        """Record ``decision`` as the bridge's outcome of that task's (mapped instance's) approval."""
        with self._lock:
            self._decided[(dag_id, run_id, task_id, map_index)] = decision

    def register(self, body: dict[str, Any]) -> str:
        key = (body["dag_id"], body["run_id"], body["task_id"], int(body.get("map_index", -1)))
        with self._lock:
            self.registrations.append(body)
            return self._ids.setdefault(key, str(uuid.uuid4()))

    def status(self, key: TaskKey) -> ApprovalSignal | None:
        with self._lock:
            approval_id = self._ids.get(key)
            decision = self._decided.get(key)
        if approval_id is None:
            return None
        decided = decision is not None and decision.way != "timeout"
        return ApprovalSignal(
            approval_id=approval_id,
            dag_id=key[0],
            run_id=key[1],
            task_id=key[2],
            map_index=key[3],
            try_number=1,
            state=decision.state if decision else "pending",
            option=decision.option if decided and decision else None,
            params_input=dict(decision.params_input) if decided and decision else {},
            policy="simulated",
            decided_at=decision.deciders[-1]["at"] if decision and decision.deciders else None,
            due_at=None,
            deciders=list(decision.deciders) if decision else [],
        )


def _handler(bridge: SimulatedBridge) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, payload: object) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if urlsplit(self.path).path != "/api/v1/approvals":
                self._answer(404, {"error": {"code": "not_found", "message": self.path}})
                return
            approval_id = bridge.register(json.loads(self.rfile.read(length)))
            self._answer(201, {"id": approval_id})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = {name: values[0] for name, values in parse_qs(url.query).items()}
            status = None
            if url.path == "/api/v1/signals/approvals":
                status = bridge.status(
                    (
                        query.get("dag_id", ""),
                        query.get("run_id", ""),
                        query.get("task_id", ""),
                        int(query.get("map_index", "-1")),
                    )
                )
            if status is None:
                self._answer(404, {"error": {"code": "not_found", "message": "no approval for that task"}})
                return
            self._answer(200, status)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@contextmanager
def simulated_bridge() -> Iterator[SimulatedBridge]:
    """
    Serve a :class:`SimulatedBridge` on a free local port for the duration of the block. Point the
    ``airgate_bridge`` connection at it (the pytest fixture ``airgate_bridge`` does) with
    ``AIRFLOW_CONN_AIRGATE_BRIDGE={"conn_type": "http", "host": bridge.url, "password": "..."}``.
    """
    bridge = SimulatedBridge()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bridge))
    bridge.url = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield bridge
    finally:
        server.shutdown()
        server.server_close()
