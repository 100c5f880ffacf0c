"""Run Airflow (api-server, scheduler, dag-processor, triggerer) and the bridge for development and tests.

``python airflow_plugin/dev/devstack.py up`` (what ``npm start`` and the integration suites run) prepares its own ``AIRFLOW_HOME`` (SQLite, seeded users and passwords,
shared JWT secret), starts every component, waits until Airflow answers and the DAGs are parsed, prints
the URLs and dev logins, and stops everything it started when it is interrupted or terminated.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
PEOPLE = {"admin": "admin", "alice": "user", "bob": "user", "carol": "user", "dave": "user", "vera": "viewer"}
# The bridge's service account: the only assigned user of airgate HITL tasks.
SERVICE_ACCOUNT = "airgate"
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
# DAGs airgate itself ships (the approval signal DAG), a bundle of their own beside the reference DAGs.
AIRGATE_DAGS = REPO_ROOT / "airflow_plugin" / "src" / "airgate" / "dags"
MAX_RESTARTS = 5


class StackError(RuntimeError):
    """A component did not come up; the message says which and where its log is."""


@dataclass
class Stack:
    home: Path
    airflow_port: int
    bridge_port: int
    dags_folder: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    launches: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    restarts: dict[str, int] = field(default_factory=dict)
    #: Every exit of a component the stack brought back, oldest first (also in ``restarts.json``).
    exits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def airflow_url(self) -> str:
        return f"http://127.0.0.1:{self.airflow_port}"

    @property
    def bridge_url(self) -> str:
        return f"http://127.0.0.1:{self.bridge_port}"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def bridge_db(self) -> Path:
        return self.home / "bridge.sqlite"

    @property
    def signals_dir(self) -> Path:
        """Where the bridge writes approvals' file signals and Airflow's sensors read them."""
        return self.home / "signals"

    def secrets(self) -> dict[str, str]:
        return _load_or_create(
            self.home / "secrets.json",
            lambda: {
                "jwt_secret": secrets.token_urlsafe(48),
                "secret_key": secrets.token_urlsafe(32),
                "bridge_service_token": secrets.token_urlsafe(32),
                # Secrets only the bridge holds (tasks can read the service token from their connection).
                "link_secret": secrets.token_urlsafe(32),
                "audit_key": secrets.token_urlsafe(32),
                # The dev channels file's webhook source `ops` (120_03_01's callback).
                "hook_ops_secret": secrets.token_urlsafe(32),
            },
        )

    def passwords(self) -> dict[str, str]:
        return _load_or_create(
            self.home / "passwords.json",
            lambda: {user: secrets.token_urlsafe(9) for user in [*PEOPLE, SERVICE_ACCOUNT]},
        )

    def airflow_env(self) -> dict[str, str]:
        keys = self.secrets()
        users = ",".join(f"{user}:{role}" for user, role in PEOPLE.items())
        settings = {
            "AIRFLOW_HOME": str(self.home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            # op, not user: publishing an approval's asset event (a signal) needs asset write access.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{users},{SERVICE_ACCOUNT}:op",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.home / "passwords.json"),
            # Quorums mean nothing if every admin may answer any HITL task.
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.airflow_url}/execution/",
            "AIRFLOW__API__PORT": str(self.airflow_port),
            "AIRFLOW__API__BASE_URL": self.airflow_url,
            "AIRFLOW__API__SECRET_KEY": keys["secret_key"],
            "AIRFLOW__API_AUTH__JWT_SECRET": keys["jwt_secret"],
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_AIRGATE_BRIDGE": json.dumps(
                {"conn_type": "http", "host": self.bridge_url, "password": keys["bridge_service_token"]}
            ),
            "AIRFLOW_CONN_AIRGATE_SIGNALS": json.dumps(
                {"conn_type": "fs", "extra": {"path": str(self.signals_dir)}}
            ),
            # The bridge's SQLite store, which SQL sensors read through its approval_status view.
            "AIRFLOW_CONN_AIRGATE_STORE": json.dumps(
                # Read-only: sensors read the store, only the bridge writes it.
                {"conn_type": "sqlite", "host": str(self.bridge_db), "extra": {"mode": "ro"}}
            ),
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(
                [
                    {"name": "dags-folder", "classpath": LOCAL_BUNDLE, "kwargs": {}},
                    {"name": "airgate", "classpath": LOCAL_BUNDLE, "kwargs": {"path": str(AIRGATE_DAGS)}},
                ]
            ),
        }
        return {**os.environ, **settings}

    def bridge_env(self) -> dict[str, str]:
        keys = self.secrets()
        settings = {
            "PORT": str(self.bridge_port),
            "AIRFLOW_URL": self.airflow_url,
            "AIRFLOW_USERNAME": SERVICE_ACCOUNT,
            "AIRFLOW_PASSWORD": self.passwords()[SERVICE_ACCOUNT],
            "AIRFLOW_JWT_SECRET": keys["jwt_secret"],
            "AIRGATE_SERVICE_TOKEN": keys["bridge_service_token"],
            "AIRGATE_LINK_SECRET": keys["link_secret"],
            "AIRGATE_AUDIT_KEY": keys["audit_key"],
            # Outside the bridge's store, beside it in the stack's home: the audit chain's head.
            "AIRGATE_AUDIT_CHECKPOINT_FILE": str(self.home / "audit-checkpoint.json"),
            "AIRGATE_POLICIES_FILE": str(REPO_ROOT / "bridge" / "examples" / "reference-dags.policies.yaml"),
            "AIRGATE_PUBLIC_URL": self.bridge_url,
            "AIRGATE_DB_FILE": str(self.bridge_db),
            # The receipt signing keys, shared by the scale profile's replicas; the first start generates one.
            "AIRGATE_RECEIPT_KEYS_DIR": str(self.home / "receipt-keys"),
            "AIRGATE_SIGNALS_DIR": str(self.signals_dir),
            "RECONCILE_INTERVAL_MS": os.environ.get("RECONCILE_INTERVAL_MS", "1000"),
            # A long-lived demo keeps a month of decided approvals; the audit trail keeps every entry.
            "APPROVAL_RETENTION": os.environ.get("APPROVAL_RETENTION", "30d"),
            # Production shape: a policy change takes effect once an admin other than its author approves it.
            "AIRGATE_POLICY_CHANGES": os.environ.get("AIRGATE_POLICY_CHANGES", "four-eyes"),
        }
        # The dev channels unless the caller brings its own (the test suites do).
        channels = {
            "AIRGATE_CHANNELS_FILE": str(REPO_ROOT / "bridge" / "examples" / "dev.channels.yaml"),
            "AIRGATE_HOOK_OPS_SECRET": keys["hook_ops_secret"],
        }
        return {**channels, **os.environ, **settings}

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{name}.log").open("ab")
        # A session of its own, so stop() can end the component and every child it forked.
        self.processes[name] = subprocess.Popen(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.launches[name] = (argv, env)
        self.write_pids()

    def write_pids(self) -> None:
        pids = {name: proc.pid for name, proc in self.processes.items()}
        (self.home / "pids.json").write_text(json.dumps(pids, indent=2) + "\n")

    @property
    def restarts_file(self) -> Path:
        """The components that exited while the stack ran: what a test suite reports as crashes."""
        return self.home / "restarts.json"

    def restart_exited(self) -> None:
        """
        Brings back a component that died, as a service manager would, so the stack survives a crash; each
        exit is recorded in ``restarts.json``, so whoever ran the stack can tell that something crashed.
        """
        for name, proc in list(self.processes.items()):
            if proc.poll() is None:
                continue
            self.exits.append(
                {
                    "component": name,
                    "exit_code": proc.returncode,
                    "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "log": str(self.logs / f"{name}.log"),
                }
            )
            self.restarts_file.write_text(json.dumps(self.exits, indent=2) + "\n")
            self.restarts[name] = self.restarts.get(name, 0) + 1
            if self.restarts[name] > MAX_RESTARTS:
                raise StackError(
                    f"{name} keeps exiting ({proc.returncode}); see {self.logs / (name + '.log')}"
                )
            print(f"airgate: {name} exited with {proc.returncode}; restarting", flush=True)
            self.start(name, *self.launches[name])

    def stop(self) -> None:
        for proc in self.processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for proc in self.processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        self.processes.clear()

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise StackError(f"{name} exited with {proc.returncode}; see {self.logs / (name + '.log')}")


def _load_or_create(path: Path, create: Any) -> dict[str, str]:
    """Values generated once per home and kept; keys added by a newer airgate are generated on first use."""
    stored: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    value: dict[str, str] = {**create(), **stored}
    if value != stored:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value, indent=2) + "\n")
        path.chmod(0o600)
    return value


def _http_json(
    url: str, body: dict[str, Any] | None = None, token: str | None = None, timeout: float = 5
) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _wait(stack: Stack, what: str, probe: Any, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            result = probe()
            if result:
                return result
        except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
            last_error = str(exc)
        time.sleep(1)
    raise StackError(f"timed out after {timeout:.0f}s waiting for {what} ({last_error})")


def expected_dag_ids(dags_folder: Path) -> set[str]:
    """Each reference DAG file defines one DAG whose id is the file's stem."""
    return {p.stem for p in dags_folder.glob("*.py") if not p.name.startswith("_")}


def wait_for_airflow(stack: Stack, timeout: float) -> None:
    def healthy() -> bool:
        health = _http_json(f"{stack.airflow_url}/api/v2/monitor/health")
        return bool(health["metadatabase"]["status"] == "healthy")

    _wait(stack, "the api-server", healthy, timeout)
    password = stack.passwords()["admin"]
    token = _http_json(f"{stack.airflow_url}/auth/token", {"username": "admin", "password": password})[
        "access_token"
    ]
    wanted = expected_dag_ids(stack.dags_folder) | expected_dag_ids(AIRGATE_DAGS)

    def parsed() -> bool:
        errors = _http_json(f"{stack.airflow_url}/api/v2/importErrors", token=token)
        if errors["total_entries"]:
            first = errors["import_errors"][0]
            raise StackError(f"DAG import error in {first['filename']}: {first['stack_trace'][-500:]}")
        dags = _http_json(f"{stack.airflow_url}/api/v2/dags?limit=1000", token=token)
        return wanted <= {d["dag_id"] for d in dags["dags"]}

    _wait(stack, f"{len(wanted)} DAGs to be parsed", parsed, timeout)


def ensure_free(port: int) -> None:
    """Fail before starting anything when a port is taken, rather than with a component's bind error."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise StackError(f"port {port} is already in use; stop what listens there or pick another port")


def start_airflow(stack: Stack) -> str:
    """Migrates Airflow's metadata database and starts its components; returns the ``airflow`` command."""
    env = stack.airflow_env()
    # Seeded before Airflow starts: SimpleAuthManager prints every password it has to generate into its log
    # (simple_auth_manager.py:199-203).
    stack.passwords()
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run(
        [airflow, "db", "migrate"],
        env=env,
        check=True,
        stdout=(stack.logs / "db-migrate.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    for component in AIRFLOW_COMPONENTS:
        stack.start(component, [airflow, component], env)
    return airflow


def print_logins(stack: Stack) -> None:
    print("airgate: dev logins (user / password):", flush=True)
    for user, password in stack.passwords().items():
        print(f"airgate:   {user} / {password}", flush=True)
    print(f"airgate: logs in {stack.logs}; press Ctrl-C to stop", flush=True)
    print("airgate: READY", flush=True)


def up(stack: Stack, with_bridge: bool, timeout: float) -> None:
    stack.restarts_file.write_text("[]\n")
    ensure_free(stack.airflow_port)
    if with_bridge:
        ensure_free(stack.bridge_port)
    start_airflow(stack)
    started = time.monotonic()
    wait_for_airflow(stack, timeout)
    airflow_ready = time.monotonic() - started
    if with_bridge:
        bridge_main = REPO_ROOT / "bridge" / "dist" / "main.js"
        stack.start("bridge", ["node", str(bridge_main)], stack.bridge_env())
        _wait(stack, "the bridge", lambda: _http_json(f"{stack.bridge_url}/readyz")["ok"], 60)
    info = {
        "airflow_url": stack.airflow_url,
        "bridge_url": stack.bridge_url if with_bridge else None,
        "home": str(stack.home),
        "passwords_file": str(stack.home / "passwords.json"),
        "restarts_file": str(stack.restarts_file),
        "airflow_ready_seconds": round(airflow_ready, 1),
    }
    (stack.home / "stack.json").write_text(json.dumps(info, indent=2) + "\n")
    print(f"airgate: Airflow ready in {airflow_ready:.0f}s at {stack.airflow_url}", flush=True)
    if with_bridge:
        print(f"airgate: bridge at {stack.bridge_url}", flush=True)
    print_logins(stack)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="devstack.py", description=__doc__)
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--home", default=os.environ.get("AIRGATE_HOME", str(REPO_ROOT / ".airgate" / "dev")))
    parser.add_argument("--airflow-port", type=int, default=int(os.environ.get("AIRGATE_AIRFLOW_PORT", 8080)))
    parser.add_argument("--bridge-port", type=int, default=int(os.environ.get("AIRGATE_BRIDGE_PORT", 8181)))
    parser.add_argument("--dags-folder", default=str(REPO_ROOT / "dags"))
    parser.add_argument("--no-bridge", action="store_true", help="start Airflow only")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for each component")
    scale = parser.add_argument_group("scale-out profile (--profile scale, see devstack_scale.py)")
    scale.add_argument("--profile", choices=["dev", "scale"], default="dev")
    scale.add_argument("--lb-port", type=int, default=int(os.environ.get("AIRGATE_LB_PORT", 8100)))
    scale.add_argument(
        "--postgres-url",
        default=os.environ.get("AIRGATE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432"),
    )
    scale.add_argument("--redis-url", default=os.environ.get("AIRGATE_REDIS_URL", "redis://127.0.0.1:6379/7"))
    scale.add_argument(
        "--db-prefix", default="airgate_scale", help="databases <prefix>_airflow and <prefix>_bridge"
    )
    scale.add_argument("--bridge-database-url", help="how the replicas reach their store (default: directly)")
    scale.add_argument("--fresh", action="store_true", help="drop the profile's two databases first")
    args = parser.parse_args(argv)

    home = Path(args.home).resolve()
    stack: Stack
    start: Callable[[], None]
    if args.profile == "scale":
        from devstack_scale import ScaleStack, up_scale

        scale_stack = ScaleStack(
            home,
            args.airflow_port,
            args.bridge_port,
            Path(args.dags_folder),
            lb_port=args.lb_port,
            postgres_url=args.postgres_url,
            redis_url=args.redis_url,
            db_prefix=args.db_prefix,
            bridge_database_url=args.bridge_database_url,
        )
        stack = scale_stack
        start = partial(up_scale, scale_stack, timeout=args.timeout, fresh=args.fresh)
    else:
        stack = Stack(home, args.airflow_port, args.bridge_port, Path(args.dags_folder))
        start = partial(up, stack, with_bridge=not args.no_bridge, timeout=args.timeout)
    stack.logs.mkdir(parents=True, exist_ok=True)

    def terminate(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    try:
        start()
        while True:
            stack.restart_exited()
            time.sleep(1)
    except StackError as exc:
        print(f"airgate: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
