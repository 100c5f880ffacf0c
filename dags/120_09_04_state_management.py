"""Approval state management: each piece of state where it belongs, orphans closed, both sides checked, nothing left behind."""

from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, PokeReturnValue, dag, task
from airflow.sdk.exceptions import AirflowFailException

from airgate import (
    REQUESTED_AT_KEY,
    AirgateApprovalOperator,
    approval_status,
    approval_tries,
    count_outcome,
    disagreements,
    local_db,
)

#: The largest XCom (JSON bytes) the run may keep about its approval: ids and decisions, never the data.
XCOM_BUDGET = 1024
#: How long each ask waits; an unanswered ask fails its try and the retry asks again, once.
ASK_FOR = timedelta(seconds=30)

DOC = f"""
# Approval state management

A price change set waits for a change manager. The run keeps each piece of state where it belongs, cleans up
what it created, and checks that Airflow and the bridge tell the same story.

| state | kept in | this run keeps |
|---|---|---|
| the change set (`changes` rows) | the staging table `staged_change` (SQLite in Airflow's home) | its row count and digest |
| the request, votes, reasons, outcome, every try | the bridge's store and audit trail | nothing: it reads them back |
| the answer Airflow acted on | Airflow's HITL detail of `approve_changes` | its XCom: the decision only |

- **Efficient state storage**: `stage_changes` writes the rows to staging and returns only their count, digest and
  the three largest changes; the approval's body is that summary. `check_state` measures the run's XComs about the
  approval (JSON bytes) against a budget of {XCOM_BUDGET} bytes and fails the run above it. `apply_changes`
  applies only the digest people approved: staging edited after the decision is refused.
- **Orphan approval handling**: each ask waits {ASK_FOR.seconds} s (`response_timeout`, no defaults). Unanswered, the
  try fails and its retry asks again: the first try's approval is now an **orphan** — nothing in Airflow waits for
  it. The bridge's reconcile loop (`bridge/src/approvals/reconcile.ts`) sees the task's try change (or its HITL
  request gone) and closes it `cancelled`; a late vote on it is refused (409). The same happens to the approval of a
  task cleared by hand or of a deleted run; one marked by hand ends `bypassed`. `check_state` waits until the
  bridge has closed every orphan, lists them (`airgate.approval_tries`, the store's `approval_status` view) and
  counts them (`airgate.orphan.<state>`).
- **State consistency**: `check_state` compares Airflow's answer with the bridge's record of the last try
  (`airgate.disagreements`: settled, same option, a person behind a person's decision) and fails on any difference,
  or on an orphan that ended other than `cancelled`.
- **State cleanup**: `stage_changes` is the run's *setup* and `clean_up` its *teardown*: it removes the staged rows
  whatever happened — approved, rejected, unanswered twice, failed. `verify_clean` then proves nothing of the run is
  left in staging. Approvals are not cleaned up by the DAG: the bridge keeps them as the record, and its
  **retention** setting (`APPROVAL_RETENTION`, 30 days on the dev stack) removes decided approvals' working state
  (votes, effects, messages, timers) once they are older, with a `retention.purged` audit entry; the audit trail
  keeps every entry, so each decision stays on record.

Policy `state-management` (in `bridge/examples/reference-dags.policies.yaml`): one change manager (bob or carol),
never the requester; a rejection needs a reason. No deadline of its own: Airflow's {ASK_FOR.seconds} s ask is the
deadline.

## Try it
Trigger `120_09_04_state_management` as alice. Approve as bob within {ASK_FOR.seconds} s: one approval, no orphan.
Or let it wait: the first approval ends `cancelled` in **Approvals** (state *all*), a second one asks again;
decide it and read `check_state`'s XCom.
"""


def _state_db() -> AbstractContextManager[sqlite3.Connection]:
    """The run's working state in one transaction: committed when the block ends, rolled back when it raises."""
    return local_db(
        "120_09_04",
        "state.db",
        "CREATE TABLE IF NOT EXISTS staged_change (run_id TEXT, sku TEXT, old REAL, new REAL)",
        "CREATE TABLE IF NOT EXISTS price (sku TEXT PRIMARY KEY, price REAL, run_id TEXT)",
    )


def _digest(rows: list[tuple[str, float, float]]) -> str:
    return hashlib.sha256(json.dumps(rows).encode()).hexdigest()[:16]


@dag(
    dag_id="120_09_04_state_management",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "performance", "intermediate", "success"],
    params={
        "changes": Param(200, type="integer", minimum=1, maximum=5000, description="Price changes to stage"),
        "seed": Param(5, type="integer", description="Seed of the generated change set"),
    },
)
def state_management() -> None:
    @task
    def stage_changes(params: dict[str, Any], run_id: str) -> dict[str, Any]:
        rng = random.Random(params["seed"])
        rows = []
        for sku in sorted(rng.sample(range(100_000), params["changes"])):
            old = round(rng.uniform(2, 400), 2)
            rows.append((f"SKU-{sku:05d}", old, round(old * (1 + rng.uniform(-0.15, 0.25)), 2)))
        with _state_db() as db:
            db.execute("DELETE FROM staged_change WHERE run_id = ?", (run_id,))
            db.executemany("INSERT INTO staged_change VALUES (?, ?, ?, ?)", [(run_id, *r) for r in rows])
        largest = sorted(rows, key=lambda r: abs(r[2] / r[1] - 1), reverse=True)[:3]
        return {
            "rows": len(rows),
            "digest": _digest(rows),
            "staged_bytes": len(json.dumps(rows)),
            "largest": [f"{sku}: {old:.2f} → {new:.2f} ({new / old - 1:+.1%})" for sku, old, new in largest],
        }

    approve_changes = AirgateApprovalOperator(
        task_id="approve_changes",
        subject="Apply {{ ti.xcom_pull(task_ids='stage_changes')['rows'] }} price changes "
        "(batch {{ ti.xcom_pull(task_ids='stage_changes')['digest'] }})?",
        body="Largest changes:\n\n{% for line in ti.xcom_pull(task_ids='stage_changes')['largest'] %}"
        "- {{ line }}\n{% endfor %}\nThe rows stay in staging; this request names their digest.",
        response_timeout=ASK_FOR,
        retries=1,
        retry_delay=timedelta(seconds=2),
    )

    @task
    def apply_changes(batch: dict[str, Any], run_id: str) -> dict[str, Any]:
        with _state_db() as db:
            rows = db.execute(
                "SELECT sku, old, new FROM staged_change WHERE run_id = ? ORDER BY sku", (run_id,)
            ).fetchall()
            if _digest(rows) != batch["digest"]:
                raise AirflowFailException(
                    f"staging changed after approval: {_digest(rows)} != {batch['digest']}"
                )
            db.executemany(
                "INSERT INTO price VALUES (?, ?, ?) ON CONFLICT(sku) DO UPDATE SET price = excluded.price, "
                "run_id = excluded.run_id",
                [(sku, new, run_id) for sku, _, new in rows],
            )
        return {"applied": len(rows), "digest": batch["digest"]}

    @task.sensor(poke_interval=10, timeout=120, mode="reschedule", trigger_rule="all_done")
    def check_state(**context: Any) -> PokeReturnValue:
        ti = context["ti"]
        tries = approval_tries(ti.dag_id, ti.run_id, "approve_changes")
        # The bridge closes an orphan on its next reconcile pass; until then there is nothing to compare.
        if not tries or any(a["state"] == "pending" for a in tries):
            return PokeReturnValue(is_done=False)
        answer, batch = ti.xcom_pull(task_ids="approve_changes"), ti.xcom_pull(task_ids="stage_changes")
        status = approval_status(ti.dag_id, ti.run_id, "approve_changes")
        problems = disagreements(answer, status)
        if status and status["approval_id"] != tries[-1]["approval_id"]:
            problems.append(f"the bridge's latest approval {status['approval_id']} is not the last try's")
        orphans = tries[:-1]
        problems += [
            f"orphan {a['approval_id']} ended {a['state']}" for a in orphans if a["state"] != "cancelled"
        ]
        xcom_bytes = {
            name: len(json.dumps(value, default=str))
            for name, value in {
                "stage_changes": batch,
                "approve_changes": answer,
                f"approve_changes.{REQUESTED_AT_KEY}": ti.xcom_pull(
                    task_ids="approve_changes", key=REQUESTED_AT_KEY
                ),
            }.items()
        }
        problems += [f"XCom {name} holds {n} bytes" for name, n in xcom_bytes.items() if n > XCOM_BUDGET]
        if problems:
            raise AirflowFailException("; ".join(problems))
        for orphan in orphans:
            count_outcome("orphan", orphan["state"], ti.dag_id)
        return PokeReturnValue(
            is_done=True,
            xcom_value={
                "approvals": [
                    {"approval_id": a["approval_id"], "try_number": a["try_number"], "state": a["state"]}
                    for a in tries
                ],
                "orphans": [a["approval_id"] for a in orphans],
                "decision": tries[-1]["option"],
                "xcom_bytes": xcom_bytes,
                "staged_bytes": batch["staged_bytes"],
            },
        )

    @task
    def clean_up(run_id: str) -> dict[str, int]:
        with _state_db() as db:
            removed = db.execute("DELETE FROM staged_change WHERE run_id = ?", (run_id,)).rowcount
        return {"removed_rows": removed}

    @task(trigger_rule="all_done")
    def verify_clean(run_id: str) -> dict[str, int]:
        with _state_db() as db:
            (left,) = db.execute("SELECT COUNT(*) FROM staged_change WHERE run_id = ?", (run_id,)).fetchone()
        if left:
            raise AirflowFailException(f"{left} staged rows of {run_id} are left behind")
        return {"staged_rows_left": left}

    batch = stage_changes()
    applied = apply_changes(batch, run_id="{{ run_id }}")
    cleanup = clean_up(run_id="{{ run_id }}").as_teardown(setups=batch.operator)
    # A rejection skips only apply_changes, the task right after the approval. The teardown and the checks after it
    # run on every outcome; a teardown does not decide the run's state, so an unanswered approval still fails it.
    (batch >> approve_changes >> applied >> cleanup >> [verify_clean(run_id="{{ run_id }}"), check_state()])


state_management()
