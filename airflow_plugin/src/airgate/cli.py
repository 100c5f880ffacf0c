"""The ``airgate`` command: ``airgate policies check POLICIES_FILE [--dags DIR] [--bridge URL] [--token T]``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import requests

#: The connection the command points at ``--bridge`` (the hook reads connections from the environment too).
CLI_CONN_ID = "airgate_cli_bridge"
#: Where the person's Airflow token is read from when ``--token`` is not given.
TOKEN_ENV = "AIRGATE_TOKEN"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="airgate", description="airgate: human-in-the-loop approvals for Airflow."
    )
    commands = parser.add_subparsers(dest="command", required=True)
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
    return parser


def _policies_check(args: argparse.Namespace) -> int:
    from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook
    from airgate.policies import check_policies

    token = args.token or os.environ.get(TOKEN_ENV)
    if not token:
        print(f"airgate: a person's Airflow token is needed: --token or ${TOKEN_ENV}", file=sys.stderr)
        return 2
    if not args.policies_file.is_file():
        print(f"airgate: {args.policies_file}: no such file", file=sys.stderr)
        return 2
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
        return 2
    if args.json:
        print(json.dumps(check, indent=2))
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    checked = len(check["results"])
    print(
        f"{args.policies_file} (version {check['version']}): valid; {checked} approval tasks, each with a policy whose quorum can be met"
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line ``argv`` (default: the process's); returns the exit status."""
    args = _parser().parse_args(argv)
    if args.command == "policies" and args.policies_command == "check":
        return _policies_check(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
