"""
The ``airgate`` command, one subcommand per task, each with its own parser:

- ``airgate verify-receipt FILE [--jwks FILE_OR_URL]`` checks a decision receipt offline against the bridge's
  published keys;
- ``airgate policies check POLICIES_FILE [--dags DIR] [--bridge URL] [--token T]`` validates a policies file and
  dry-runs every approval task of a DAGs folder against it on a running bridge.
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

import requests

from airgate.receipts import ReceiptInvalid, summary, verify_receipt

#: Exit codes: the receipt verified (or the file checked clean); it did not (one line says why); the command
#: could not run.
VALID, INVALID, FAILED = 0, 1, 2
#: Where ``--jwks`` is taken from when it is not given.
JWKS_ENV = "AIRGATE_JWKS"
#: The connection the command points at ``--bridge`` (the hook reads connections from the environment too).
CLI_CONN_ID = "airgate_cli_bridge"
#: Where the person's Airflow token is read from when ``--token`` is not given.
TOKEN_ENV = "AIRGATE_TOKEN"


class CommandFailed(Exception):
    """What the command needs cannot be read (a file, the key set)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line ``argv`` (default: the process's); returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="airgate", description="airgate: human-in-the-loop approvals for Airflow."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_verify_receipt(commands)
    _add_policies(commands)
    arguments = parser.parse_args(argv)
    try:
        code: int = arguments.run(arguments)
    except CommandFailed as err:
        print(f"airgate {arguments.command}: {err}", file=sys.stderr)
        return FAILED
    return code


def _add_verify_receipt(commands: Any) -> None:
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


def _add_policies(commands: Any) -> None:
    policies = commands.add_parser("policies", help="work with a policies file")
    policy_commands = policies.add_subparsers(dest="policies_command", required=True)
    check = policy_commands.add_parser(
        "check",
        help="validate a policies file and dry-run every approval task of a DAGs folder against it",
        description=(
            "Sends the file and every airgate approval task of --dags (parsed with Airflow's DagBag, triggered "
            "with the DAG's default params) to a running bridge, which validates the file and dry-runs each "
            "task against it. Prints one line per problem and exits 1 when there is any."
        ),
    )
    check.add_argument("policies_file", type=Path, metavar="POLICIES_FILE")
    check.add_argument(
        "--dags", type=Path, help="a DAGs folder whose approval tasks must each have a reachable policy"
    )
    check.add_argument(
        "--bridge", help="the bridge's URL (default: the Airflow connection airgate_bridge)", metavar="URL"
    )
    check.add_argument("--token", help=f"a person's Airflow token (default: ${TOKEN_ENV})", metavar="T")
    who = check.add_mutually_exclusive_group()
    who.add_argument(
        "--requester", help="who would trigger the runs (default: the token's person)", metavar="NAME"
    )
    who.add_argument(
        "--unattended", action="store_true", help="check the runs as nobody's (a schedule, an asset event)"
    )
    check.add_argument("--json", action="store_true", help="print the bridge's whole answer as JSON")
    check.set_defaults(run=_policies_check)


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


def _policies_check(args: argparse.Namespace) -> int:
    from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook
    from airgate.policies import check_policies

    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        print(f"airgate: a person's Airflow token is needed: --token or ${TOKEN_ENV}", file=sys.stderr)
        return FAILED
    if not args.policies_file.is_file():
        print(f"airgate: {args.policies_file}: no such file", file=sys.stderr)
        return FAILED
    conn_id = BRIDGE_CONN_ID
    if args.bridge:
        conn_id = CLI_CONN_ID
        os.environ[f"AIRFLOW_CONN_{CLI_CONN_ID.upper()}"] = json.dumps(
            {"conn_type": "http", "host": args.bridge}
        )
    try:
        check, problems = check_policies(
            BridgeHook(conn_id),
            args.policies_file,
            args.dags,
            token=token,
            requester=args.requester,
            unattended=args.unattended,
        )
    except requests.RequestException as err:
        answer = err.response.text if isinstance(err, requests.HTTPError) and err.response is not None else ""
        print(f"airgate: the bridge did not check the file: {err} {answer}".rstrip(), file=sys.stderr)
        return FAILED
    if args.json:
        print(json.dumps(check, indent=2))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return INVALID
    checked = len(check["results"])
    print(
        f"{args.policies_file} (version {check['version']}): valid; {checked} approval tasks, each with a policy whose quorum can be met"
    )
    return VALID


if __name__ == "__main__":
    sys.exit(main())
