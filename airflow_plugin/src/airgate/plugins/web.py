"""FastAPI app mounted in Airflow's api-server: serves the UI bundle, forwards the UI's calls to the bridge.

The UI runs inside Airflow's pages, where the signed-in user's Airflow JWT travels as the ``_token``
cookie (or a bearer header). Airflow's own access check runs here first: the caller must be signed in and
may read HITL details (writes: answer HITL tasks), as Airflow's own HITL routes require
(``airflow/api_fastapi/core_api/routes/public/hitl.py``). The call is then forwarded to the bridge with the
same token, which the bridge verifies again and takes the identity from. No user name ever travels in a
header or body the bridge would have to trust.

Only the bridge's JSON API is reachable through Airflow's origin: the path is checked before it is joined
to ``/api/v1/`` (no dot segments, no encoded slashes or backslashes), bodies are capped at the bridge's own
limit, and an answer that is not JSON (the bridge's HTML pages) is refused, never served as Airflow's.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import requests
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
from airflow.sdk.exceptions import AirflowNotFoundException
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from airgate.hooks.bridge import BridgeHook

PREFIX = "/airgate"
#: The bridge's own body limit (``express.json({ limit: '256kb' })`` in ``bridge/src/app.ts``).
MAX_BODY_BYTES = 256 * 1024
#: Seconds a forwarded call may take (an action's dry run asks Airflow first).
TIMEOUT = 30
#: What the UI sends that the bridge reads; everything else (cookies above all) stays on Airflow's side.
REQUEST_HEADERS = ("content-type", "idempotency-key", "accept")
#: What the bridge answers that the UI may read; no cookie or page header of the bridge reaches Airflow's origin.
RESPONSE_HEADERS = (
    "content-type",
    "cache-control",
    "etag",
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "content-disposition",
    "airgate-audit-chain",
)
#: Percent-encodings that would let a path change its meaning after the check: ``/``, ``\\`` and ``%``.
ENCODED_SEPARATORS = ("%2f", "%5c", "%25")

app = FastAPI(title="airgate", docs_url=None, redoc_url=None, openapi_url=None)
# check_dir=False: nothing touches the filesystem at import; a missing bundle shows when it is requested.
app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static", check_dir=False), name="static")


def refusal(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    """An answer in the bridge's error shape, ``{"error": {"code", "message", "field"?}}``."""
    error = {"code": code, "message": message, **({"field": field} if field else {})}
    return JSONResponse({"error": error}, status_code=status)


def requires_access(request: Request, user: GetUserDep) -> None:
    """Airflow's own check: reading approvals needs HITL read access, deciding needs what answering HITL needs."""
    # A dag_id in the query narrows the check to that DAG, as on Airflow's own routes.
    check = requires_access_dag("GET" if request.method == "GET" else "PUT", DagAccessEntity.HITL_DETAIL)
    check(request, user)


def presented_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:]
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN, "")


def unsafe_path(raw_path: str, path: str) -> str | None:
    """Why ``path`` (decoded; ``raw_path`` as sent) cannot be joined to ``/api/v1/``, or None when it can."""
    if any(encoded in raw_path.lower() for encoded in ENCODED_SEPARATORS):
        return "path: encoded slashes, backslashes and percent signs are refused"
    if "\\" in path or any(ord(char) < 0x20 for char in path):
        return "path: backslashes and control characters are refused"
    if any(segment in {"", ".", ".."} for segment in path.split("/")):
        return "path: empty, '.' and '..' segments are refused"
    return None


async def capped_body(request: Request) -> bytes | None:
    """The request's body, or None when it is larger than the bridge accepts (read no further than that)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)


def is_forwardable(response: requests.Response) -> bool:
    """JSON, or a CSV download (the audit export): nothing a browser would render on Airflow's origin."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    download = response.headers.get("content-disposition", "").strip().lower().startswith("attachment")
    return (
        media_type == "application/json"
        or (media_type == "text/csv" and download)
        or (response.status_code == 204 and not response.content)
    )


@app.api_route(
    "/api/{path:path}",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
    dependencies=[Depends(requires_access)],
)
async def forward(path: str, request: Request) -> Response:
    raw_path = request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    if problem := unsafe_path(raw_path, path):
        return refusal(400, "bad_request", problem, "path")
    # Cookie-authenticated writes must not be forgeable by a cross-site form: forms cannot send JSON.
    if (
        request.method != "GET"
        and request.headers.get("content-type", "").split(";")[0] != "application/json"
    ):
        return refusal(415, "unsupported_media_type", "body: airgate accepts JSON bodies only", "body")
    body = await capped_body(request)
    if body is None:
        return refusal(413, "too_large", f"body: larger than {MAX_BODY_BYTES} bytes", "body")
    headers = {name: value for name in REQUEST_HEADERS if (value := request.headers.get(name))}
    try:
        upstream = await run_in_threadpool(
            BridgeHook().call,
            request.method,
            f"/api/v1/{quote(path)}",
            token=presented_token(request),
            headers={**headers, "X-Airgate-Channel": "ui"},
            params=list(request.query_params.multi_items()),
            data=body,
            timeout=TIMEOUT,
        )
    except (requests.RequestException, AirflowNotFoundException) as exc:
        return refusal(503, "unavailable", f"airgate bridge unreachable: {exc}")
    if not is_forwardable(upstream):
        return refusal(
            502,
            "bad_gateway",
            "the bridge did not answer with JSON; only its JSON API (and CSV downloads) is forwarded",
        )
    passed = {name: value for name in RESPONSE_HEADERS if (value := upstream.headers.get(name))}
    return Response(
        content=upstream.content,
        status_code=upstream.status_code,
        headers={**passed, "X-Content-Type-Options": "nosniff"},
    )
