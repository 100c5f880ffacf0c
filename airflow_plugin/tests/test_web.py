"""The plugin's same-origin route: Airflow's login and access checks, the user's token forwarded, and only
the bridge's JSON API reachable — every refusal leaves the bridge without a request."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import pathlib
from collections.abc import Iterator
from unittest import mock
from urllib.parse import unquote

import pytest
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from airgate.plugins import web

from conftest import FakeBridge


@pytest.fixture
def auth_manager() -> Iterator[mock.Mock]:
    """Airflow's auth manager as the route's access check sees it; allows everything unless a test says not."""
    manager = mock.Mock()
    manager.is_authorized_dag.return_value = True
    with (
        mock.patch("airflow.api_fastapi.core_api.security.get_auth_manager", return_value=manager),
        mock.patch("airflow.api_fastapi.core_api.security.DagModel.get_team_name", return_value=None),
    ):
        yield manager


@pytest.fixture
def client(auth_manager: mock.Mock) -> Iterator[TestClient]:
    web.app.dependency_overrides[get_user] = lambda: object()
    yield TestClient(web.app)
    web.app.dependency_overrides.clear()


def test_forwards_the_cookie_token_as_bearer(client: TestClient, bridge: FakeBridge) -> None:
    client.cookies.set("_token", "alice-jwt")
    response = client.get("/api/approvals", params={"state": "pending"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    assert response.headers["x-content-type-options"] == "nosniff"
    [call] = bridge.calls
    assert call.path == "/api/v1/approvals?state=pending"
    assert call.headers["authorization"] == "Bearer alice-jwt"
    assert call.headers["x-airgate-channel"] == "ui"


def test_forwards_a_json_write_with_its_idempotency_key(client: TestClient, bridge: FakeBridge) -> None:
    bridge.answer(201, {"id": "v1"})
    response = client.post(
        "/api/approvals/a1/votes",
        json={"option": "Approve"},
        headers={"Authorization": "Bearer bob-jwt", "Idempotency-Key": "k1"},
    )
    assert (response.status_code, response.json()) == (201, {"id": "v1"})
    [call] = bridge.calls
    assert (call.method, call.path, call.body) == (
        "POST",
        "/api/v1/approvals/a1/votes",
        b'{"option":"Approve"}',
    )
    assert (call.headers["authorization"], call.headers["idempotency-key"]) == ("Bearer bob-jwt", "k1")


def test_reads_need_hitl_read_access_and_writes_what_answering_hitl_needs(
    client: TestClient, bridge: FakeBridge, auth_manager: mock.Mock
) -> None:
    client.get("/api/approvals", params={"dag_id": "d1"})
    client.post("/api/approvals/a1/votes", json={"option": "Approve"})
    (read,), (write,) = [
        c.kwargs.items() and (c.kwargs,) for c in auth_manager.is_authorized_dag.call_args_list
    ]
    assert (read["method"], read["access_entity"], read["details"].id) == (
        "GET",
        DagAccessEntity.HITL_DETAIL,
        "d1",
    )
    assert (write["method"], write["access_entity"]) == ("PUT", DagAccessEntity.HITL_DETAIL)
    assert len(bridge.calls) == 2


def test_a_user_without_hitl_access_is_refused(
    client: TestClient, bridge: FakeBridge, auth_manager: mock.Mock
) -> None:
    auth_manager.is_authorized_dag.return_value = False
    assert client.get("/api/approvals").status_code == 403
    assert client.post("/api/approvals/a1/votes", json={"option": "Approve"}).status_code == 403
    assert bridge.calls == []


def test_requires_an_airflow_login(bridge: FakeBridge) -> None:
    response = TestClient(web.app).get("/api/approvals")
    assert response.status_code == 401
    assert bridge.calls == []


def test_refuses_non_json_writes(client: TestClient, bridge: FakeBridge) -> None:
    response = client.post("/api/approvals/a1/votes", data={"option": "Approve"})
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert bridge.calls == []


@pytest.mark.parametrize(
    "raw_path",
    [
        b"/api/%2e%2e/%2e%2e/metrics",
        b"/api/%2E%2E/%2E%2E/metrics",
        b"/api/../../metrics",
        b"/api/approvals/../../../metrics",
        b"/api/./approvals",
        b"/api/%2e/approvals",
        b"/api/..%2f..%2fmetrics",
        b"/api/approvals%2F..%2F..%2Fmetrics",
        b"/api/..%5c..%5cmetrics",
        b"/api/..\\..\\metrics",
        b"/api/%252e%252e/%252e%252e/metrics",
        b"/api//metrics",
    ],
)
def test_paths_that_could_leave_the_api_are_refused(
    client: TestClient, bridge: FakeBridge, raw_path: bytes
) -> None:
    status, body = asyncio.run(send_raw(raw_path))
    assert status == 400, body
    assert json.loads(body)["error"] == {"code": "bad_request", "message": mock.ANY, "field": "path"}
    assert bridge.calls == []


async def send_raw(raw_path: bytes) -> tuple[int, bytes]:
    """One GET with the request target exactly as given, decoded as uvicorn decodes it (httpx would normalise it)."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": unquote(raw_path.decode("latin-1")),
        "raw_path": raw_path,
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    await web.app(scope, receive, send)
    status = next(int(m["status"]) for m in sent if m["type"] == "http.response.start")  # type: ignore[call-overload]
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")  # type: ignore[misc]


def test_a_body_larger_than_the_bridge_accepts_is_refused(client: TestClient, bridge: FakeBridge) -> None:
    big = '{"reason": "' + "x" * web.MAX_BODY_BYTES + '"}'
    response = client.post(
        "/api/approvals/a1/votes", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert bridge.calls == []


def test_a_streamed_body_without_a_length_is_capped_too(client: TestClient, bridge: FakeBridge) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(web.MAX_BODY_BYTES // 1024 + 2):
            yield b"x" * 1024

    response = client.post(
        "/api/approvals/a1/votes", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert bridge.calls == []


def test_bridge_html_is_never_served_on_airflows_origin(client: TestClient, bridge: FakeBridge) -> None:
    bridge.answer(200, b"<html><script>alert(1)</script></html>", content_type="text/html; charset=utf-8")
    response = client.get("/api/docs")
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/json"
    assert "<script>" not in response.text
    assert response.json()["error"]["code"] == "bad_gateway"


def test_a_csv_download_is_forwarded_with_its_name_and_chain_header(
    client: TestClient, bridge: FakeBridge
) -> None:
    bridge.answer(200, b"seq,at\n1,2026-12-03\n", content_type="text/csv; charset=utf-8")
    bridge.headers = {
        "Content-Disposition": 'attachment; filename="airgate-audit.csv"',
        "Airgate-Audit-Chain": "ok",
    }
    response = client.get("/api/audit/export", params={"format": "csv"})
    assert response.status_code == 200
    assert response.text == "seq,at\n1,2026-12-03\n"
    assert response.headers["content-disposition"] == 'attachment; filename="airgate-audit.csv"'
    assert response.headers["airgate-audit-chain"] == "ok"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_csv_that_is_no_download_is_not_forwarded(client: TestClient, bridge: FakeBridge) -> None:
    bridge.answer(200, b"<script>alert(1)</script>", content_type="text/csv")
    response = client.get("/api/audit/export")
    assert response.status_code == 502
    assert "<script>" not in response.text


def test_bridge_cookies_and_other_headers_stay_behind(client: TestClient, bridge: FakeBridge) -> None:
    bridge.headers = {"Set-Cookie": "_token=evil; Path=/", "RateLimit": "limit=1200, remaining=1199"}
    response = client.get("/api/approvals")
    assert "set-cookie" not in response.headers
    assert response.headers["ratelimit"] == "limit=1200, remaining=1199"


def test_bridge_down_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIRGATE_BRIDGE", '{"conn_type": "http", "host": "http://127.0.0.1:9"}')
    response = client.get("/api/approvals")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"


def test_importing_the_app_touches_no_file() -> None:
    refuse = mock.Mock(side_effect=AssertionError("filesystem work at import"))
    with mock.patch.object(pathlib.Path, "mkdir", refuse), mock.patch.object(os.path, "isdir", refuse):
        importlib.reload(web)
    refuse.assert_not_called()
