"""A stand-in for the bridge on a local port: it records registrations and reports simulated decisions."""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import jwt
from airflow.sdk.timezone import utcnow
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from airgate.receipts import (
    RECEIPT_TYPE,
    RECEIPT_VERSION,
    Receipt,
    ReceiptPayload,
    content_digest,
    receipt_digest,
)
from airgate.signals import ApprovalSignal, AuditEntry, AuditEvidence, Delivery
from airgate.testing.decisions import Decision

#: dag_id, run_id, task_id, map_index.
TaskKey = tuple[str, str, str, int]
#: The columns of the bridge store's read-only ``approval_status`` view (bridge/src/store/migrations.ts).
STORE_COLUMNS = "id, dag_id, run_id, task_id, map_index, try_number, state, policy, created_at, decided_at, outcome, votes"


@dataclass
class SimulatedBridge:
    """
    Answers the calls an airgate DAG makes to the bridge, over real HTTP through the ``airgate_bridge``
    connection: ``POST /api/v1/approvals`` (the notifier's registration, kept in :attr:`registrations`),
    ``GET /api/v1/signals/approvals`` (what :func:`airgate.decision_record_of` and the status sensor read:
    pending once registered, then the simulated decision; 404 before registration) and
    ``GET /api/v1/signals/deliveries`` (the deliveries a test simulated with :meth:`deliver`) and
    ``GET /api/v1/signals/audit`` (the approval's audit evidence as :meth:`audit` builds it) and
    ``GET /api/v1/signals/receipts`` (the decision's receipt, signed with a key of its own that
    ``GET /.well-known/jwks.json`` and :meth:`jwks` publish, as :meth:`receipt` builds it).

    An external approval (``RequestApprovalOperator``) is decided the moment it registers, by the decision
    :meth:`plan` was given for its request task, so the sensor that waits for it sees that decision.

    Like the bridge, it keeps one approval per task try: a retry's registration is a new approval, and the
    earlier try's approval, if still pending, ends ``cancelled`` as the bridge's reconcile loop closes an orphan.
    An approval's deadline (``due_at``) is its registration's ``timeout_at`` (there is no policy here). It also
    serves ``GET /metrics`` (the bridge's gauges and counters of what it simulated) and keeps the store's
    ``approval_status`` view in the SQLite file :attr:`store` (for :func:`airgate.approval_tries`).
    """

    url: str = ""
    #: The SQLite file holding the ``approval_status`` view's rows; None keeps no store.
    store: Path | None = None
    #: Every registration body, in the order they came.
    registrations: list[dict[str, Any]] = field(default_factory=list)
    _tries: dict[TaskKey, int] = field(default_factory=dict)
    _due_at: dict[TaskKey, str | None] = field(default_factory=dict)
    _decided_at: dict[TaskKey, str] = field(default_factory=dict)
    #: The approvals of earlier tries, as ``approval_status`` rows (an orphan ends cancelled).
    _earlier: list[tuple[Any, ...]] = field(default_factory=list)
    _ids: dict[TaskKey, str] = field(default_factory=dict)
    _registered_at: dict[TaskKey, datetime] = field(default_factory=dict)
    _decided: dict[TaskKey, Decision] = field(default_factory=dict)
    _planned: Callable[[str, int], Decision | None] = lambda task_id, map_index: None
    #: (task_id, map_index) -> the deliveries :meth:`deliver` simulated, with their delay after registration.
    _deliveries: dict[tuple[str, int], list[tuple[Delivery, float]]] = field(default_factory=dict)
    _receipts: dict[TaskKey, Receipt] = field(default_factory=dict)
    _receipt_key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)
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
        """
        Record ``decision`` as the bridge's outcome of that task's (mapped instance's) approval, its votes
        cast now: people decide once they were asked.
        """
        now = utcnow().isoformat()
        voted = replace(decision, deciders=[{**d, "at": now} for d in decision.deciders])
        key = (dag_id, run_id, task_id, map_index)
        with self._lock:
            self._decided[key] = voted
            self._receipts.pop(key, None)
            if decision.way != "timeout":
                self._decided_at[key] = now
        self._keep_store()

    def plan(self, decision_of: Callable[[str, int], Decision | None]) -> None:
        """How external approvals are decided: ``decision_of(request task id, map index)``, None for undecided."""
        self._planned = decision_of

    def deliver(
        self,
        task_id: str,
        channel: str,
        *,
        recipient: str = "bob",
        state: str = "sent",
        after: float = 0.0,
        attempts: int = 1,
        last_error: str | None = None,
        fallback_of: int | None = None,
        map_index: int = -1,
    ) -> int:
        """
        Simulate one delivery of ``task_id``'s approval, queued when it registers and sent ``after`` seconds
        later (when ``state`` is ``sent``); returns its id, for a fallback's ``fallback_of``.
        """
        with self._lock:
            delivery_id = 1 + sum(len(d) for d in self._deliveries.values())
            delivery = Delivery(
                id=delivery_id,
                recipient=recipient,
                channel=channel,
                state=state,
                attempts=attempts,
                last_error=last_error,
                created_at="",
                sent_at=None,
                fallback_of=fallback_of,
            )
            self._deliveries.setdefault((task_id, map_index), []).append((delivery, after))
        return delivery_id

    def register(self, body: dict[str, Any]) -> str:
        key = _key_of(body)
        planned = self._planned(key[2], key[3])
        try_number = int(body.get("try_number", 1))
        with self._lock:
            self.registrations.append(body)
            if try_number > self._tries.get(key, try_number):
                self._earlier.append(self._row(key, orphan=True))
                for kept in (
                    self._ids,
                    self._registered_at,
                    self._decided,
                    self._decided_at,
                    self._due_at,
                    self._receipts,
                ):
                    kept.pop(key, None)
            self._tries[key] = max(try_number, self._tries.get(key, 1))
            self._due_at.setdefault(key, body.get("timeout_at"))
            self._registered_at.setdefault(key, utcnow())
            approval_id = self._ids.setdefault(key, str(uuid.uuid4()))
        if body.get("external") and planned is not None:
            self.decide(*key[:3], planned, map_index=key[3])
        self._keep_store()
        return approval_id

    def _row(self, key: TaskKey, *, orphan: bool = False) -> tuple[Any, ...]:
        """The ``approval_status`` row of the task's current approval (an orphan's once a later try asks)."""
        decision = self._decided.get(key)
        state = decision.state if decision else "pending"
        outcome = None
        if decision is not None and decision.way != "timeout":
            outcome = json.dumps({"option": decision.option, "params_input": dict(decision.params_input)})
        return (
            self._ids[key],
            *key,
            self._tries.get(key, 1),
            "cancelled" if orphan and state == "pending" else state,
            "simulated",
            self._registered_at[key].isoformat(),
            self._decided_at.get(key) or (utcnow().isoformat() if orphan else None),
            outcome,
            len(decision.deciders) if decision else 0,
        )

    def _keep_store(self) -> None:
        if self.store is None:
            return
        with self._lock:
            rows = [*self._earlier, *(self._row(key) for key in self._ids)]
        with closing(sqlite3.connect(self.store)) as db, db:
            db.execute("DELETE FROM approval_status")
            db.executemany(f"INSERT INTO approval_status VALUES ({', '.join('?' * 12)})", rows)

    def metrics(self) -> str:
        """What ``GET /metrics`` answers: the bridge's pending gauge and decision and vote counters, simulated."""
        with self._lock:
            states = [d.state for d in self._decided.values()]
            pending = len(self._ids) - len([d for d in self._decided.values() if d.way != "timeout"])
            votes = [v["channel"] for d in self._decided.values() for v in d.deciders]
        lines = [
            "# HELP airgate_approvals_pending Approvals waiting for a decision",
            "# TYPE airgate_approvals_pending gauge",
            f"airgate_approvals_pending {pending}",
            "# HELP airgate_decisions_total Approvals that reached a final state",
            "# TYPE airgate_decisions_total counter",
            *(
                f'airgate_decisions_total{{state="{s}"}} {states.count(s)}'
                for s in sorted(set(states) - {"pending"})
            ),
            "# HELP airgate_votes_total Votes recorded, by channel and whether they were refused",
            "# TYPE airgate_votes_total counter",
            *(
                f'airgate_votes_total{{channel="{c}",result="recorded"}} {votes.count(c)}'
                for c in sorted(set(votes))
            ),
        ]
        return "\n".join(lines) + "\n"

    def deliveries(self, key: TaskKey) -> dict[str, Any] | None:
        """What ``GET /api/v1/signals/deliveries`` answers: the simulated deliveries, timed from registration."""
        with self._lock:
            approval_id = self._ids.get(key)
            registered = self._registered_at.get(key)
            simulated = list(self._deliveries.get((key[2], key[3]), []))
        if approval_id is None or registered is None:
            return None
        items: list[Delivery] = []
        for delivery, after in simulated:
            sent_at = (
                (registered + timedelta(seconds=after)).isoformat() if delivery["state"] == "sent" else None
            )
            items.append({**delivery, "created_at": registered.isoformat(), "sent_at": sent_at})
        return {"approval_id": approval_id, "items": items}

    def audit(self, key: TaskKey) -> AuditEvidence | None:
        """
        What ``GET /api/v1/signals/audit`` answers: the registration, a ``vote.recorded`` per decider (the
        first decider at level 1, the next at level 2, ...: as sequential one-person levels record them) and
        the decision, chained and verified; None before the task registered.
        """
        with self._lock:
            approval_id = self._ids.get(key)
            registered = self._registered_at.get(key)
            body = next((b for b in reversed(self.registrations) if _key_of(b) == key), None)
            decision = self._decided.get(key)
        if approval_id is None or registered is None or body is None:
            return None
        steps: list[tuple[str, str, str | None, str | None, dict[str, Any], str]] = [
            (
                "system",
                "approval.registered",
                "notifier",
                None,
                {"requester": body.get("requester")},
                registered.isoformat(),
            )
        ]
        if decision is not None and decision.way == "people":
            for level, decider in enumerate(decision.deciders, start=1):
                details = {"option": decider["option"], "level": level, "policy": "simulated"}
                steps.append(
                    (
                        decider["user"],
                        "vote.recorded",
                        decider["channel"],
                        decider["reason"],
                        details,
                        decider["at"],
                    )
                )
        if decision is not None and decision.way != "timeout":
            at = decision.deciders[-1]["at"] if decision.deciders else utcnow().isoformat()
            steps.append(
                (
                    "system",
                    "approval.decided",
                    None,
                    None,
                    {"state": decision.state, "option": decision.option},
                    at,
                )
            )
        entries: list[AuditEntry] = []
        prev_hash = "0" * 64
        for seq, (actor, action, channel, reason, details, at) in enumerate(steps, start=1):
            entry = {"seq": seq, "at": at, "actor": actor, "action": action, "channel": channel}
            entry |= {
                "approval_id": approval_id,
                "reason": reason,
                "details": details,
                "prev_hash": prev_hash,
            }
            digest = hashlib.sha256(json.dumps(entry, sort_keys=True).encode()).hexdigest()
            entries.append(AuditEntry(**entry, hash=digest, chain_verified=True))  # type: ignore[typeddict-item]
            prev_hash = digest
        verification = {"ok": True, "checked": len(entries), "first_bad_seq": None, "problem": None}
        return AuditEvidence(
            exported_at=utcnow().isoformat(),
            exported_by="service",
            filters={"approval_id": approval_id},
            verification={**verification, "head_seq": len(entries), "keyed_from": 1, "checkpoint": None},
            count=len(entries),
            entries=entries,
        )

    def jwks(self) -> dict[str, Any]:
        """What ``GET /.well-known/jwks.json`` answers: the public key the simulated receipts verify with."""
        raw = self._receipt_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
        kid = base64.urlsafe_b64encode(hashlib.sha256(members.encode()).digest()).rstrip(b"=").decode()
        return {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}]}

    def receipt(self, key: TaskKey) -> Receipt | None:
        """
        What ``GET /api/v1/signals/receipts`` answers: the decision's receipt, as the bridge signs it (the
        content digest of the last registration, the deciders as votes at levels 1, 2, ...); None while
        undecided or when Airflow's own timeout answered (the bridge learns of that only later).
        """
        status = self.status(key)
        with self._lock:
            kept = self._receipts.get(key)
            body = next((b for b in reversed(self.registrations) if _key_of(b) == key), None)
        if kept is not None:
            return kept
        decision = self._decided.get(key)
        if status is None or body is None or decision is None or decision.way == "timeout":
            return None
        digest = content_digest({**body, "try_number": status["try_number"]})
        jwk = self.jwks()["keys"][0]
        payload: dict[str, Any] = {
            "receipt_version": RECEIPT_VERSION,
            "issuer": self.url,
            "issued_at": status["decided_at"],
            "approval_id": status["approval_id"],
            **{name: status[name] for name in ("dag_id", "run_id", "task_id", "map_index", "try_number")},
            "content_digest": digest,
            "votes": [
                {**decider, "on_behalf_of": None, "level": level, "content_digest": digest}
                for level, decider in enumerate(status["deciders"], start=1)
            ],
            "bypass": None,
            "policy": {"name": "simulated", "version": "simulated"},
            "outcome": {
                "state": status["state"],
                "option": status["option"],
                "params_input": status["params_input"],
            },
            "decided_at": status["decided_at"],
        }
        jws = jwt.PyJWS().encode(
            json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(),
            self._receipt_key,
            algorithm="EdDSA",
            headers={"kid": jwk["kid"], "typ": RECEIPT_TYPE},
        )
        made = Receipt(
            receipt=jws,
            kid=jwk["kid"],
            verified=True,
            digest=receipt_digest(jws),
            payload=cast(ReceiptPayload, payload),
        )
        with self._lock:
            self._receipts[key] = made
        return made

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
            try_number=self._tries.get(key, 1),
            state=decision.state if decision else "pending",
            option=decision.option if decided and decision else None,
            params_input=dict(decision.params_input) if decided and decision else {},
            policy="simulated",
            decided_at=self._decided_at.get(key),
            due_at=self._due_at.get(key),
            deciders=list(decision.deciders) if decision else [],
        )


def _key_of(body: dict[str, Any]) -> TaskKey:
    return (body["dag_id"], body["run_id"], body["task_id"], int(body.get("map_index", -1)))


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
            key = (
                query.get("dag_id", ""),
                query.get("run_id", ""),
                query.get("task_id", ""),
                int(query.get("map_index", "-1")),
            )
            answer: object = None
            if url.path == "/metrics":
                text = bridge.metrics().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
                return
            if url.path == "/api/v1/signals/approvals":
                answer = bridge.status(key)
            elif url.path == "/api/v1/signals/deliveries":
                answer = bridge.deliveries(key)
            elif url.path == "/api/v1/signals/audit":
                answer = bridge.audit(key)
            elif url.path == "/api/v1/signals/receipts":
                answer = bridge.receipt(key)
                if answer is None and bridge.status(key) is not None:
                    self._answer(404, {"error": {"code": "no_receipt", "message": "not decided yet"}})
                    return
            elif url.path == "/.well-known/jwks.json":
                answer = bridge.jwks()
            if answer is None:
                self._answer(404, {"error": {"code": "not_found", "message": "no approval for that task"}})
                return
            self._answer(200, answer)

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
    with tempfile.TemporaryDirectory(prefix="airgate-store-") as folder:
        store = Path(folder) / "bridge.db"
        with closing(sqlite3.connect(store)) as db:
            db.execute(f"CREATE TABLE approval_status ({STORE_COLUMNS})")
        bridge = SimulatedBridge(store=store)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(bridge))
        bridge.url = f"http://127.0.0.1:{server.server_port}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield bridge
        finally:
            server.shutdown()
            server.server_close()
