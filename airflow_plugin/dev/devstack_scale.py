"""The scale-out profile of the dev stack: the production shape on one machine.

``python airflow_plugin/dev/devstack.py up --profile scale`` runs Airflow with the CeleryExecutor (Redis broker, Celery
workers as processes of their own) on a PostgreSQL metadata database, and two bridge replicas on one
PostgreSQL store behind HAProxy (round robin, health-checked on ``/readyz``). Airflow's plugin route, the
``airgate_bridge`` connection and every link the channels send point at the load balancer, never at a
replica. PostgreSQL and Redis are the machine's own (``--postgres-url``, ``--redis-url``); the profile only
creates its two databases, ``<db prefix>_airflow`` and ``<db prefix>_bridge``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
from devstack import (
    REPO_ROOT,
    Stack,
    StackError,
    _http_json,
    _wait,
    ensure_free,
    print_logins,
    start_airflow,
    wait_for_airflow,
)
from psycopg2 import sql

CELERY_WORKERS = 2
WORKER_CONCURRENCY = 8
# Each Celery worker serves its task logs on a port of its own: 8793 is taken by whichever starts first.
LOG_SERVER_OFFSET = 713
HAPROXY_TEMPLATE = """\
# Written by devstack.py --profile scale; regenerated on every start.
global
    maxconn 4096

defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    # /readyz asks Airflow too, which can be slow on a busy machine: slow is not down.
    timeout check 10s
    # A replica that dies mid-request: try the request on the other one, once, when nothing was sent yet.
    retries 1
    option redispatch
    errorfile 503 {errorfile}

frontend airgate
    bind 127.0.0.1:{port}
    default_backend bridges

backend bridges
    balance roundrobin
    option httpchk GET /readyz
    # In rotation while the replica's store answers: "degraded" (Airflow down) still takes votes.
    http-check expect rstring '"status":"(ready|degraded)"'
{servers}
"""
# What HAProxy answers when no replica is ready: the contract's error shape, not HAProxy's HTML page.
UNAVAILABLE_RESPONSE = (
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: application/json\r\n"
    "Cache-Control: no-cache\r\n"
    "Connection: close\r\n"
    "\r\n"
    '{"error":{"code":"unavailable","message":"no bridge replica is ready; try again shortly"}}\n'
)


@dataclass
class ScaleStack(Stack):
    """Two bridge replicas (``bridge_port`` and the next port) behind HAProxy on ``lb_port``."""

    lb_port: int = 8100
    postgres_url: str = "postgresql://postgres@127.0.0.1:5432"
    redis_url: str = "redis://127.0.0.1:6379/7"
    db_prefix: str = "airgate_scale"
    # How the replicas reach their store; the fault suite puts a proxy it can cut in between.
    bridge_database_url: str | None = None

    @property
    def bridge_url(self) -> str:
        """What everyone else uses to reach the bridge: the load balancer."""
        return f"http://127.0.0.1:{self.lb_port}"

    @property
    def replica_ports(self) -> list[int]:
        return [self.bridge_port, self.bridge_port + 1]

    def database_url(self, part: str, scheme: str = "postgresql") -> str:
        parts = urlsplit(self.postgres_url)
        return urlunsplit((scheme, parts.netloc, f"/{self.db_prefix}_{part}", "", ""))

    @property
    def store_url(self) -> str:
        return self.bridge_database_url or self.database_url("bridge", "postgres")

    def airflow_env(self) -> dict[str, str]:
        store = urlsplit(self.database_url("bridge"))
        settings = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_url("airflow", "postgresql+psycopg2"),
            "AIRFLOW__CELERY__BROKER_URL": self.redis_url,
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.database_url("airflow"),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            # As many task runs at once as the workers have slots (the dev profile's 8 would leave half idle).
            "AIRFLOW__CORE__PARALLELISM": str(CELERY_WORKERS * WORKER_CONCURRENCY),
            # Keys of their own on a shared Redis (kombu's redis transport prefixes every key it writes).
            "AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__GLOBAL_KEYPREFIX": f"{self.db_prefix}_celery_",
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(
                self.airflow_port + LOG_SERVER_OFFSET + CELERY_WORKERS + 1
            ),
            # A busy api-server answers late, not never: a task's calls to the execution API wait that out.
            "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
            # The sensors' read-only view of the store, now PostgreSQL.
            "AIRFLOW_CONN_AIRGATE_STORE": json.dumps(
                {
                    "conn_type": "postgres",
                    "host": store.hostname,
                    "port": store.port or 5432,
                    "login": store.username or "postgres",
                    "schema": store.path.lstrip("/"),
                }
            ),
        }
        return {**super().airflow_env(), **settings}

    def worker_env(self, index: int) -> dict[str, str]:
        port = self.airflow_port + LOG_SERVER_OFFSET + index
        return {**self.airflow_env(), "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(port)}

    def replica_env(self, port: int) -> dict[str, str]:
        env = {**self.bridge_env(), "PORT": str(port), "DATABASE_URL": self.store_url}
        env.pop("AIRGATE_DB_FILE")
        policies = self.dags_folder / "policies.yaml"
        if policies.exists():
            env["AIRGATE_POLICIES_FILE"] = str(policies)
        return env

    def create_databases(self, fresh: bool) -> None:
        """Creates ``<prefix>_airflow`` and ``<prefix>_bridge``; ``fresh`` drops them first (only those two)."""
        admin = psycopg2.connect(self.database_url("airflow").rsplit("/", 1)[0] + "/postgres")
        admin.autocommit = True
        try:
            with admin.cursor() as cursor:
                for part in ("airflow", "bridge"):
                    name = f"{self.db_prefix}_{part}"
                    if fresh:
                        cursor.execute(
                            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                        )
                    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
                    if cursor.fetchone() is None:
                        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        finally:
            admin.close()

    def write_haproxy_config(self) -> Path:
        errorfile = self.home / "haproxy-503.http"
        errorfile.write_text(UNAVAILABLE_RESPONSE)
        servers = "\n".join(
            f"    server bridge-{n} 127.0.0.1:{port} check inter 2s fall 2 rise 1"
            for n, port in enumerate(self.replica_ports, start=1)
        )
        config = self.home / "haproxy.cfg"
        config.write_text(HAPROXY_TEMPLATE.format(port=self.lb_port, errorfile=errorfile, servers=servers))
        return config


def up_scale(stack: ScaleStack, timeout: float, fresh: bool) -> None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise StackError("haproxy is not installed; run npm run setup (it installs Debian's haproxy)")
    stack.restarts_file.write_text("[]\n")
    for port in (stack.airflow_port, *stack.replica_ports, stack.lb_port):
        ensure_free(port)
    stack.create_databases(fresh)
    airflow = start_airflow(stack)
    for index in range(1, CELERY_WORKERS + 1):
        hostname = f"worker-{index}@%h"
        stack.start(f"worker-{index}", [airflow, "celery", "worker", "-H", hostname], stack.worker_env(index))
    started = time.monotonic()
    wait_for_airflow(stack, timeout)
    airflow_ready = time.monotonic() - started
    bridge_main = str(REPO_ROOT / "bridge" / "dist" / "main.js")
    for n, port in enumerate(stack.replica_ports, start=1):
        stack.start(f"bridge-{n}", ["node", bridge_main], stack.replica_env(port))
        _wait(
            stack,
            f"bridge-{n}",
            lambda port=port: _http_json(f"http://127.0.0.1:{port}/readyz")["ok"],
            timeout,
        )
    stack.start("haproxy", [haproxy, "-db", "-f", str(stack.write_haproxy_config())], dict(os.environ))
    _wait(stack, "the load balancer", lambda: _http_json(f"{stack.bridge_url}/readyz")["ok"], timeout)
    replica_urls = [f"http://127.0.0.1:{port}" for port in stack.replica_ports]
    info = {
        "profile": "scale",
        "airflow_url": stack.airflow_url,
        "bridge_url": stack.bridge_url,
        "replica_urls": replica_urls,
        "airflow_database": stack.database_url("airflow"),
        "bridge_database": stack.database_url("bridge"),
        "home": str(stack.home),
        "passwords_file": str(stack.home / "passwords.json"),
        "restarts_file": str(stack.restarts_file),
        "airflow_ready_seconds": round(airflow_ready, 1),
    }
    (stack.home / "stack.json").write_text(json.dumps(info, indent=2) + "\n")
    print(
        f"airgate: Airflow (CeleryExecutor, PostgreSQL) ready in {airflow_ready:.0f}s at {stack.airflow_url}",
        flush=True,
    )
    print(f"airgate: bridge at {stack.bridge_url} (HAProxy over {', '.join(replica_urls)})", flush=True)
    print_logins(stack)
