"""
Decision receipts: what the bridge signs for every final decision (a compact JWS over the decision, with the
digest of the content people reviewed), and how anyone holding one checks it offline against the bridge's
published keys (``GET /.well-known/jwks.json``). The operators put a task's receipt in its XCom under
:data:`RECEIPT_XCOM_KEY`; ``airgate verify-receipt`` checks a saved one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any, TypedDict

import jwt

#: The XCom key under which an airgate HITL task keeps its decision's receipt.
RECEIPT_XCOM_KEY = "airgate_receipt"
#: The JWS header's ``typ``: tells a receipt from any other token signed with the same key.
RECEIPT_TYPE = "airgate-receipt"
#: The payload format this package reads.
RECEIPT_VERSION = 1
#: The algorithms receipt keys use (Ed25519, ECDSA P-256); anything else is refused.
ALGORITHMS = ("EdDSA", "ES256")
_FIELDS = (
    "approval_id",
    "dag_id",
    "run_id",
    "task_id",
    "map_index",
    "try_number",
    "content_digest",
    "votes",
    "policy",
    "outcome",
    "decided_at",
    "issuer",
)


class ReceiptVote(TypedDict):
    user: str
    #: The delegator whose seat this deputy's vote filled; None for a vote in the voter's own name.
    on_behalf_of: str | None
    option: str
    reason: str | None
    channel: str
    at: str
    level: int
    #: What the voter saw; None on votes recorded before the bridge kept it.
    content_digest: str | None


class ReceiptOutcome(TypedDict):
    #: approved, rejected, expired, bypassed or cancelled.
    state: str
    option: str | None
    params_input: dict[str, Any]


class ReceiptPayload(TypedDict):
    """What a receipt signs (bridge/src/receipts/schemas.ts ``ReceiptPayload``)."""

    receipt_version: int
    issuer: str
    issued_at: str
    approval_id: str
    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    try_number: int
    content_digest: str
    votes: list[ReceiptVote]
    bypass: dict[str, Any] | None
    policy: dict[str, str | None]
    outcome: ReceiptOutcome
    decided_at: str


class Receipt(TypedDict):
    """A receipt as the bridge serves it (``GET /api/v1/signals/receipts``) and the XCom holds it."""

    #: The compact JWS.
    receipt: str
    kid: str
    verified: bool
    #: ``sha256:<hex>`` of the JWS text: the id the task note names it by.
    digest: str
    payload: ReceiptPayload


class ReceiptInvalid(Exception):
    """The receipt does not verify: malformed, signed by a key the key set lacks, or altered."""


def content_digest(content: Mapping[str, Any]) -> str:
    """
    ``sha256:<hex>`` of what people are shown, as the bridge computes it (bridge/src/approvals/content.ts):
    subject, body, options, params and the task try, as JSON with keys sorted at every depth.

    :param content: A registration or approval holding those fields (``map_index`` -1 when absent).
    """
    reviewed = {
        "dag_id": content["dag_id"],
        "run_id": content["run_id"],
        "task_id": content["task_id"],
        "map_index": content.get("map_index", -1),
        "try_number": content["try_number"],
        "subject": content["subject"],
        "body": content.get("body"),
        "options": list(content["options"]),
        "params": content.get("params") or {},
    }
    canonical = json.dumps(reviewed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"sha256:{hashlib.sha256(canonical.encode()).hexdigest()}"


def receipt_digest(jws: str) -> str:
    """``sha256:<hex>`` of a receipt's JWS text: its id in the task note."""
    return f"sha256:{hashlib.sha256(jws.encode()).hexdigest()}"


def verify_receipt(jws: str, jwks: Mapping[str, Any]) -> tuple[str, ReceiptPayload]:
    """
    Check a receipt against a key set and return the key id that signed it and what it says.

    :param jws: The compact JWS.
    :param jwks: The bridge's JWKS (``{"keys": [...]}``), as ``GET /.well-known/jwks.json`` serves it.
    :raises ReceiptInvalid: with a one-line reason when the format, the key id or the signature is wrong.
    """
    try:
        header = jwt.get_unverified_header(jws)
    except jwt.exceptions.DecodeError as err:
        raise ReceiptInvalid(f"not a compact JWS: {err}") from err
    if header.get("typ") != RECEIPT_TYPE:
        raise ReceiptInvalid(f"not an airgate receipt (typ {header.get('typ')!r})")
    kid, alg = header.get("kid"), header.get("alg")
    if alg not in ALGORITHMS:
        raise ReceiptInvalid(f"unexpected algorithm {alg!r}")
    key = next((k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid), None)
    if key is None:
        raise ReceiptInvalid(f"unknown key id {kid!r}: the key set does not hold the key that signed it")
    try:
        public = jwt.PyJWK(key, algorithm=alg).key
        payload = jwt.PyJWS().decode_complete(jws, key=public, algorithms=[alg])["payload"]
    except jwt.exceptions.InvalidSignatureError as err:
        raise ReceiptInvalid("bad signature: the receipt was altered or not signed by that key") from err
    except jwt.exceptions.PyJWTError as err:
        raise ReceiptInvalid(f"cannot verify: {err}") from err
    try:
        claims = json.loads(payload)
    except ValueError as err:
        raise ReceiptInvalid("the payload is not JSON") from err
    if not isinstance(claims, dict) or claims.get("receipt_version") != RECEIPT_VERSION:
        raise ReceiptInvalid(
            f"unsupported receipt version {claims.get('receipt_version') if isinstance(claims, dict) else None!r}"
        )
    if missing := [name for name in _FIELDS if name not in claims]:
        raise ReceiptInvalid(f"the payload lacks {', '.join(missing)}")
    return str(kid), ReceiptPayload(**claims)  # type: ignore[typeddict-item]


def summary(kid: str, payload: ReceiptPayload) -> str:
    """A verified receipt in a few lines: what was decided, on which task try and content, by whom."""
    outcome = payload["outcome"]
    task = f"{payload['dag_id']}/{payload['run_id']}/{payload['task_id']}"
    if payload["map_index"] >= 0:
        task += f"[{payload['map_index']}]"
    policy = payload["policy"]
    lines = [
        f"valid receipt, signed by key {kid} of {payload['issuer']}",
        f"approval {payload['approval_id']}: {outcome['state']}"
        + (f" ({outcome['option']})" if outcome["option"] else "")
        + f" at {payload['decided_at']}",
        f"task {task}, try {payload['try_number']}",
        f"content {payload['content_digest']}",
        f"policy {policy.get('name') or 'none'} @ {policy.get('version') or '?'}",
    ]
    for vote in payload["votes"]:
        reason = f": {vote['reason']}" if vote["reason"] else ""
        deputy = f" for {vote['on_behalf_of']}" if vote.get("on_behalf_of") else ""
        lines.append(
            f"  {vote['option']} by {vote['user']}{deputy} via {vote['channel']} at {vote['at']}{reason}"
        )
    if payload.get("bypass"):
        bypass = payload["bypass"] or {}
        lines.append(f"  break-glass by {bypass.get('by')}: {bypass.get('reason')}")
    return "\n".join(lines)
