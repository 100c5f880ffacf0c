"""FastAPI app mounted in Airflow's api-server: serves the UI bundle, forwards the UI's calls to the bridge.

The UI runs inside Airflow's pages, where the signed-in user's Airflow JWT travels as the ``_token``
cookie (or a bearer header). Airflow's own ``get_user`` dependency checks it here; the call is then
forwarded to the bridge with the same token, which the bridge verifies again and takes the identity
from. No user name ever travels in a header or body the bridge would have to trust.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.staticfiles import StaticFiles

PREFIX = "/airgate"
STATIC_DIR = Path(__file__).parent / "static"
# Response headers that describe the hop, not the content.
HOP_HEADERS = {"connection", "content-length", "content-encoding", "transfer-encoding", "keep-alive"}

app = FastAPI(title="airgate", docs_url=None, redoc_url=None, openapi_url=None)
STATIC_DIR.mkdir(exist_ok=True)
app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


def bridge_url() -> str:
    return os.environ.get("AIRGATE_BRIDGE_URL", "http://127.0.0.1:8181").rstrip("/")


def presented_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:]
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN, "")


@app.api_route("/api/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
async def forward(path: str, request: Request, _user: GetUserDep) -> Response:
    # Cookie-authenticated writes must not be forgeable by a cross-site form: forms cannot send JSON.
    if (
        request.method != "GET"
        and request.headers.get("content-type", "").split(";")[0] != "application/json"
    ):
        raise HTTPException(status_code=415, detail="airgate accepts JSON bodies only")
    headers = {"Authorization": f"Bearer {presented_token(request)}", "X-Airgate-Channel": "ui"}
    for name in ("content-type", "idempotency-key", "accept"):
        if value := request.headers.get(name):
            headers[name] = value
    async with httpx.AsyncClient(timeout=30) as client:
        try:
            upstream = await client.request(
                request.method,
                f"{bridge_url()}/api/v1/{path}",
                params=request.query_params,
                content=await request.body(),
                headers=headers,
            )
        except httpx.HTTPError as exc:
            raise HTTPException(status_code=503, detail=f"airgate bridge unreachable: {exc}") from exc
    passed = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_HEADERS}
    return Response(content=upstream.content, status_code=upstream.status_code, headers=passed)
