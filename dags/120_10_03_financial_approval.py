"""Financial transaction approval: screened, routed by amount to one or two levels, filed with its audit evidence."""

from __future__ import annotations

import difflib
import json
import random
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateApprovalOperator, BridgeHook, local_db, workspace

DOC = """
# Financial transaction approval

A payment request (the run's conf: amount, beneficiary, reference) goes through compliance screening, then
is **routed by its amount**, decided by the people the policy names at as many levels as the amount needs,
paid, and filed with the **audit evidence** of who decided.

1. `screen_payment` runs the compliance checks against the treasury's ledger (a SQLite file in Airflow's
   home, seeded with 90 days of generated payments on first use) and a sanctions list:
   - **sanctions screening** — the beneficiary's normalised name against the list, exact or ≥ 90 % similar;
   - **duplicate payment** — the same beneficiary, amount and reference paid in the last 30 days;
   - **daily limit** — what the beneficiary was paid in the last 24 hours plus this amount, against 50 000 EUR.
   The reviewer sees each check with the figures it measured.
2. `route_by_amount` — **amount-based routing** in code: a sanctions hit or a duplicate goes to
   `block_payment` (nobody may approve it); under 1 000 EUR with every check passed, `auto_approve`
   (straight-through processing, recorded as such); anything else to `approve_payment`.
3. `approve_payment` — the bridge picks the policy by the same amount
   (`bridge/examples/reference-dags.policies.yaml`):
   - `financial-large` (`when: amount >= 10000`): **multi-level approval**, one of finance, then one of the
     controllers;
   - `financial-standard`: one of finance.
   **Compliance requirements** are the policies' rules, enforced by the bridge: the requester never
   decides (`self_approval: false`), and **segregation of duties** — `segregation: {across_levels: true,
   excluded: [owners]}`: nobody decides at two levels (carol, who is in both finance and the controllers,
   can decide one level only) and the pipeline's owner (`dave`, treasury operations) never decides.
   A rejection needs a reason. Airflow's `response_timeout` (1 day) rejects.
4. `execute_payment` books the payment in the ledger; `block_payment` records the block and why.
5. `file_audit_evidence` — **audit trail**: reads the approval's entries from the bridge's hash-chained audit
   trail (`GET /api/v1/signals/audit`, the chain verified at export time), checks them again itself (chain
   intact, one person per level, the requester among no deciders), writes them next to the ledger as the
   payment's evidence file and returns the summary. People export the same trail as CSV or JSON from the
   **Audit** page or `GET /api/v1/audit/export`.

## Try it
Trigger `120_10_03_financial_approval` as alice with `{"amount": 25000}`: carol approves for finance, then
carol is refused at the controllers level (segregation of duties) and admin approves; read
`file_audit_evidence`'s XCom. As dave (the owner) any vote is refused. `{"amount": 420}` is paid at once;
`{"beneficiary": "Ocean Star Trading"}` is blocked by the sanctions screening.
"""

#: This DAG's folder in Airflow's home: the ledger and the filed evidence.
WORKSPACE = "120_10_03"
#: Payments under this amount (EUR) with every check passed need nobody; the policies route the rest.
AUTO_LIMIT = 1_000
#: What one beneficiary may be paid in 24 hours (EUR).
DAILY_LIMIT = 50_000
SANCTIONED = ["Ocean Star Trading", "Kestrel Maritime Holdings", "Novaya Logistika", "Red Dune Exports"]
LEGAL_FORMS = {"ltd", "llc", "inc", "gmbh", "sa", "bv", "plc", "ag", "co", "corp"}
BENEFICIARIES = ["Northwind Ltd", "Contoso GmbH", "Fabrikam SA", "Tailspin Toys", "Litware BV"]


@contextmanager
def _ledger(seed: int) -> Iterator[sqlite3.Connection]:
    """The treasury ledger in one transaction; 90 days of generated payments on first use."""
    schema = (
        "CREATE TABLE IF NOT EXISTS payment (run_id TEXT, beneficiary TEXT, amount REAL, reference TEXT,"
        " paid_at TEXT, status TEXT, route TEXT, detail TEXT)"
    )
    with local_db(WORKSPACE, "ledger.db", schema) as db:
        if db.execute("SELECT COUNT(*) FROM payment").fetchone()[0] == 0:
            rng = random.Random(seed)
            now = datetime.now(UTC)
            db.executemany(
                "INSERT INTO payment VALUES ('history', ?, ?, ?, ?, 'paid', 'history', '')",
                [
                    (
                        rng.choice(BENEFICIARIES),
                        round(rng.lognormvariate(8, 1.2), 2),
                        f"INV-{rng.randrange(10_000):04d}",
                        (now - timedelta(hours=rng.uniform(30, 90 * 24))).isoformat(),
                    )
                    for _ in range(300)
                ],
            )
        yield db


def _normalised(name: str) -> str:
    """Lower case, punctuation as spaces, legal forms dropped: how screening compares names."""
    words = "".join(c if c.isalnum() else " " for c in name.lower()).split()
    return " ".join(word for word in words if word not in LEGAL_FORMS)


@dag(
    dag_id="120_10_03_financial_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "real-world", "advanced", "success"],
    default_args={"owner": "dave"},
    params={
        "amount": Param(2500, type="number", exclusiveMinimum=0, description="Amount in EUR"),
        "beneficiary": Param("Northwind Ltd", type="string", minLength=1, description="Who is paid"),
        "reference": Param("INV-2026-0042", type="string", minLength=1, description="Invoice reference"),
        "seed": Param(42, type="integer", description="Seed of the generated ledger history"),
    },
)
def financial_approval() -> None:
    @task
    def screen_payment(params: dict[str, Any]) -> dict[str, Any]:
        amount = float(params["amount"])
        beneficiary = params["beneficiary"].strip()
        name = _normalised(beneficiary)
        similarity = {
            entry: difflib.SequenceMatcher(None, name, _normalised(entry)).ratio() for entry in SANCTIONED
        }
        closest, score = max(similarity.items(), key=lambda item: item[1])
        now = datetime.now(UTC)
        with _ledger(params["seed"]) as db:
            duplicates = db.execute(
                "SELECT COUNT(*) FROM payment WHERE beneficiary = ? AND amount = ? AND reference = ?"
                " AND status = 'paid' AND paid_at >= ?",
                (beneficiary, amount, params["reference"], (now - timedelta(days=30)).isoformat()),
            ).fetchone()[0]
            (paid_today,) = db.execute(
                "SELECT COALESCE(SUM(amount), 0) FROM payment WHERE beneficiary = ? AND status = 'paid' AND paid_at >= ?",
                (beneficiary, (now - timedelta(hours=24)).isoformat()),
            ).fetchone()
        checks = [
            {
                "check": "sanctions",
                "passed": score < 0.9,
                "blocking": True,
                "measured": f"closest listed entity {closest!r}: {score:.0%} similar",
            },
            {
                "check": "duplicate",
                "passed": duplicates == 0,
                "blocking": True,
                "measured": f"{duplicates} identical payment(s) in the last 30 days",
            },
            {
                "check": "daily_limit",
                "passed": paid_today + amount <= DAILY_LIMIT,
                "blocking": False,
                "measured": f"{paid_today:,.2f} paid in 24 h + {amount:,.2f} of {DAILY_LIMIT:,} EUR",
            },
        ]
        blocked = [c["check"] for c in checks if c["blocking"] and not c["passed"]]
        route = (
            "block"
            if blocked
            else "auto"
            if amount < AUTO_LIMIT and all(c["passed"] for c in checks)
            else "people"
        )
        rows = "\n".join(
            f"| {c['check']} | {'✅' if c['passed'] else '❌'} | {c['measured']} |" for c in checks
        )
        markdown = (
            f"**{amount:,.2f} EUR** to **{beneficiary}**, reference `{params['reference']}`\n\n"
            f"| compliance check | | measured |\n|---|---|---|\n{rows}"
        )
        return {
            "amount": amount,
            "beneficiary": beneficiary,
            "route": route,
            "blocked": blocked,
            "checks": checks,
            "markdown": markdown,
        }

    @task.branch
    def route_by_amount(screening: dict[str, Any]) -> str:
        return {"block": "block_payment", "auto": "auto_approve", "people": "approve_payment"}[
            screening["route"]
        ]

    @task
    def auto_approve(screening: dict[str, Any]) -> dict[str, Any]:
        return {"approved_by": None, "reason": f"below {AUTO_LIMIT} EUR with every compliance check passed"}

    approve_payment = AirgateApprovalOperator(
        task_id="approve_payment",
        subject="Pay {{ params.amount }} EUR to {{ params.beneficiary }} ({{ params.reference }})?",
        body="{{ ti.xcom_pull(task_ids='screen_payment')['markdown'] }}",
        response_timeout=timedelta(days=1),
        defaults="Reject",
    )

    @task(trigger_rule="none_failed_min_one_success")
    def execute_payment(params: dict[str, Any], run_id: str, ti: Any) -> dict[str, Any]:
        # Read, not passed: as an argument the screening would make its task a direct upstream, which
        # would satisfy min_one_success even when both the approval and the automatic path were skipped.
        screening = ti.xcom_pull(task_ids="screen_payment")
        route = screening["route"]
        with _ledger(params["seed"]) as db:
            db.execute(
                "INSERT INTO payment VALUES (?, ?, ?, ?, ?, 'paid', ?, '')",
                (
                    run_id,
                    screening["beneficiary"],
                    screening["amount"],
                    params["reference"],
                    datetime.now(UTC).isoformat(),
                    route,
                ),
            )
            (booked,) = db.execute(
                "SELECT COUNT(*) FROM payment WHERE run_id = ? AND status = 'paid'", (run_id,)
            ).fetchone()
        return {"paid": screening["amount"], "route": route, "booked": booked}

    @task
    def block_payment(screening: dict[str, Any], params: dict[str, Any], run_id: str) -> dict[str, Any]:
        with _ledger(params["seed"]) as db:
            db.execute(
                "INSERT INTO payment VALUES (?, ?, ?, ?, ?, 'blocked', 'block', ?)",
                (
                    run_id,
                    screening["beneficiary"],
                    screening["amount"],
                    params["reference"],
                    datetime.now(UTC).isoformat(),
                    ",".join(screening["blocked"]),
                ),
            )
        return {"blocked_by": screening["blocked"]}

    @task(trigger_rule="all_done")
    def file_audit_evidence(screening: dict[str, Any], dag_run: Any, run_id: str) -> dict[str, Any]:
        if screening["route"] != "people":
            return {"route": screening["route"], "approval": None}
        evidence = BridgeHook().audit_evidence(dag_run.dag_id, run_id, "approve_payment")
        if evidence is None:
            raise RuntimeError("the bridge has no approval for approve_payment: nothing to file")
        entries = evidence["entries"]
        requester = next(
            (e["details"].get("requester") for e in entries if e["action"] == "approval.registered"), None
        )
        deciders: dict[int, set[str]] = {}
        for entry in entries:
            if entry["action"] in ("vote.recorded", "vote.replaced"):
                deciders.setdefault(int(entry["details"]["level"]), set()).add(entry["actor"])
        people = [user for users in deciders.values() for user in users]
        decided = next((e["details"] for e in entries if e["action"] == "approval.decided"), None)
        summary = {
            "route": "people",
            "approval": entries[0]["approval_id"] if entries else None,
            "outcome": decided,
            "deciders_by_level": {str(level): sorted(users) for level, users in sorted(deciders.items())},
            # Checked again here, from the evidence itself: the trail is intact and the duties were segregated.
            "chain_ok": bool(evidence["verification"]["ok"]) and all(e["chain_verified"] for e in entries),
            "one_level_per_person": len(people) == len(set(people)),
            "requester_decided": requester in people,
            "entries": len(entries),
        }
        path = workspace(WORKSPACE) / "evidence" / f"{run_id.replace(':', '_').replace('/', '_')}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps({"summary": summary, "evidence": evidence}, indent=2))
        return {**summary, "evidence_file": str(path)}

    screening = screen_payment()
    route = route_by_amount(screening)
    auto = auto_approve(screening)
    paid = execute_payment(run_id="{{ run_id }}")
    blocked = block_payment(screening, run_id="{{ run_id }}")
    route >> [auto, approve_payment, blocked]
    [auto, approve_payment] >> paid
    [paid, blocked] >> file_audit_evidence(screening, run_id="{{ run_id }}")


financial_approval()
