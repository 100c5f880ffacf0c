"""
The ``airgate`` command: ``airgate verify-receipt FILE [--jwks FILE_OR_URL]`` checks a decision receipt
offline against the bridge's published keys. One subcommand per task, each with its own parser.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from airgate.receipts import ReceiptInvalid, summary, verify_receipt

#: Exit codes: the receipt verified; it did not (one line says why); the command could not run.
VALID, INVALID, FAILED = 0, 1, 2
#: Where ``--jwks`` is taken from when it is not given.
JWKS_ENV = "AIRGATE_JWKS"


class CommandFailed(Exception):
    """What the command needs cannot be read (a file, the key set)."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="airgate", description="airgate's command line")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    verify = commands.add_parser(
        "verify-receipt",
        help="check a decision receipt against the bridge's keys",
        description="Verify a decision receipt (the JWS, or the JSON the bridge or the task's XCom holds) "
        "offline against a JWKS; exit 0 when valid, 1 with the reason when not, 2 when it cannot be read.",
    )
    verify.add_argument("file", type=Path, help="the receipt: a file holding the JWS or the receipt's JSON")
    verify.add_argument(
        "--jwks",
        default=os.environ.get(JWKS_ENV),
        help=f"the bridge's key set: a file, or its URL (<bridge>/.well-known/jwks.json); default ${JWKS_ENV}",
    )
    verify.set_defaults(run=verify_receipt_command)
    arguments = parser.parse_args(argv)
    try:
        code: int = arguments.run(arguments)
    except CommandFailed as err:
        print(f"airgate {arguments.command}: {err}", file=sys.stderr)
        return FAILED
    return code


def verify_receipt_command(arguments: argparse.Namespace) -> int:
    if not arguments.jwks:
        raise CommandFailed(f"no key set: give --jwks FILE_OR_URL or set {JWKS_ENV}")
    jws = _receipt_text(arguments.file)
    jwks = _jwks(arguments.jwks)
    try:
        kid, payload = verify_receipt(jws, jwks)
    except ReceiptInvalid as err:
        print(f"invalid receipt: {err}", file=sys.stderr)
        return INVALID
    print(summary(kid, payload))
    return VALID


def _receipt_text(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise CommandFailed(f"cannot read {path}: {err}") from err
    if not text.startswith("{"):
        return text
    # The JSON the bridge answers (GET .../receipt) and the XCom holds: the JWS is its `receipt`.
    try:
        held = json.loads(text)
    except ValueError:
        return text
    return str(held.get("receipt", "")) if isinstance(held, dict) else text


def _jwks(source: str) -> dict[str, Any]:
    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=10) as response:
                text = response.read().decode()
        else:
            text = Path(source).read_text(encoding="utf-8")
        jwks = json.loads(text)
    except (OSError, ValueError) as err:
        raise CommandFailed(f"cannot read the key set {source}: {err}") from err
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise CommandFailed(f"{source} is not a JWKS (an object with a keys list)")
    return jwks


if __name__ == "__main__":
    sys.exit(main())
