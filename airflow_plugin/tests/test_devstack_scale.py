"""The scale-out profile's wiring: what each process is told, and the load balancer's configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from devstack_scale import ScaleStack


def scale_stack(tmp_path: Path, **kwargs: object) -> ScaleStack:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "policies.yaml").write_text("version: 1\n")
    return ScaleStack(tmp_path / "home", 38080, 38181, dags, lb_port=38100, db_prefix="t", **kwargs)  # type: ignore[arg-type]


def test_airflow_runs_celery_on_postgres_and_reaches_the_bridge_through_the_load_balancer(
    tmp_path: Path,
) -> None:
    env = scale_stack(tmp_path).airflow_env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert (
        env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        == "postgresql+psycopg2://postgres@127.0.0.1:5432/t_airflow"
    )
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/7"
    assert json.loads(env["AIRFLOW_CONN_AIRGATE_BRIDGE"])["host"] == "http://127.0.0.1:38100"
    assert json.loads(env["AIRFLOW_CONN_AIRGATE_STORE"])["schema"] == "t_bridge"


def test_each_celery_worker_serves_its_logs_on_a_port_of_its_own(tmp_path: Path) -> None:
    stack = scale_stack(tmp_path)
    ports = {stack.worker_env(n)["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] for n in (1, 2)}
    ports.add(stack.airflow_env()["AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT"])
    assert len(ports) == 3


def test_replicas_share_one_postgres_store_and_send_people_to_the_load_balancer(tmp_path: Path) -> None:
    stack = scale_stack(tmp_path, bridge_database_url="postgres://postgres@127.0.0.1:38150/t_bridge")
    first, second = (stack.replica_env(port) for port in stack.replica_ports)
    assert (first["PORT"], second["PORT"]) == ("38181", "38182")
    assert first["DATABASE_URL"] == second["DATABASE_URL"] == "postgres://postgres@127.0.0.1:38150/t_bridge"
    assert "AIRGATE_DB_FILE" not in first
    assert first["AIRGATE_PUBLIC_URL"] == "http://127.0.0.1:38100"
    assert first["AIRGATE_POLICIES_FILE"] == str(stack.dags_folder / "policies.yaml")


def test_haproxy_balances_both_replicas_round_robin_checked_on_readyz(tmp_path: Path) -> None:
    stack = scale_stack(tmp_path)
    stack.home.mkdir(parents=True)
    config = stack.write_haproxy_config().read_text()
    assert "bind 127.0.0.1:38100" in config
    assert "balance roundrobin" in config
    assert "option httpchk GET /readyz" in config
    assert "server bridge-1 127.0.0.1:38181 check" in config
    assert "server bridge-2 127.0.0.1:38182 check" in config
    unavailable = (stack.home / "haproxy-503.http").read_bytes().decode()
    body = json.loads(unavailable.split("\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "unavailable"


def test_the_dev_channels_give_the_ops_webhook_a_secret_of_the_home_unless_the_caller_brings_channels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRGATE_CHANNELS_FILE", raising=False)
    monkeypatch.delenv("AIRGATE_HOOK_OPS_SECRET", raising=False)
    stack = scale_stack(tmp_path)
    env = stack.bridge_env()
    assert env["AIRGATE_CHANNELS_FILE"].endswith("bridge/examples/dev.channels.yaml")
    secret = env["AIRGATE_HOOK_OPS_SECRET"]
    assert len(secret) >= 32
    assert json.loads((stack.home / "secrets.json").read_text())["hook_ops_secret"] == secret
    monkeypatch.setenv("AIRGATE_CHANNELS_FILE", "/suite/channels.yaml")
    assert stack.bridge_env()["AIRGATE_CHANNELS_FILE"] == "/suite/channels.yaml"
