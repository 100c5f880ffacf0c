"""The plugin's same-origin route: Airflow's login is checked, the user's token is forwarded, bodies are JSON."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from airflow.api_fastapi.core_api.security import get_user
from fastapi.testclient import TestClient

from airgate import web


@pytest.fixture
def bridge_calls(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    calls: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"items": [], "next_cursor": None})

    real_client = httpx.AsyncClient
    monkeypatch.setattr(
        web.httpx, "AsyncClient", lambda **kw: real_client(transport=httpx.MockTransport(answer), **kw)
    )
    monkeypatch.setenv("AIRGATE_BRIDGE_URL", "http://bridge.test")
    return calls


@pytest.fixture
def client() -> Iterator[TestClient]:
    web.app.dependency_overrides[get_user] = lambda: object()
    yield TestClient(web.app)
    web.app.dependency_overrides.clear()


def test_forwards_the_cookie_token_as_bearer(client: TestClient, bridge_calls: list[httpx.Request]) -> None:
    client.cookies.set("_token", "alice-jwt")
    response = client.get("/api/approvals", params={"state": "pending"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}
    [call] = bridge_calls
    assert str(call.url) == "http://bridge.test/api/v1/approvals?state=pending"
    assert call.headers["authorization"] == "Bearer alice-jwt"
    assert call.headers["x-airgate-channel"] == "ui"


def test_refuses_non_json_writes(client: TestClient, bridge_calls: list[httpx.Request]) -> None:
    response = client.post("/api/approvals/a1/votes", data={"option": "Approve"})
    assert response.status_code == 415
    assert bridge_calls == []


def test_requires_an_airflow_login(bridge_calls: list[httpx.Request]) -> None:
    response = TestClient(web.app).get("/api/approvals")
    assert response.status_code == 401
    assert bridge_calls == []


def test_bridge_down_is_503(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRGATE_BRIDGE_URL", "http://127.0.0.1:9")
    response = client.get("/api/approvals")
    assert response.status_code == 503
