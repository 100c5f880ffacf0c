"""Data pipeline quality gate: a batch is profiled and staged; a data steward approves its production load."""

from __future__ import annotations

import random
import sqlite3
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

from airflow.sdk import Asset, Param, dag, task

from airgate import AirgateBranchOperator, Bar, bar_chart, local_db

DOC = """
# Data pipeline quality gate

A batch of orders lands every time the upstream extract publishes the `raw_orders` asset. Before it reaches
the production table, a data steward looks at **quality metrics computed from the batch itself** and decides.

1. `extract_batch` builds the batch (here generated from `seed`, `batch_size` and `defect_rate`, so the demo
   has no outside source): order id, customer email, amount, country. Defects are injected at `defect_rate`:
   a missing email, a non-positive amount, a repeated order id.
2. `profile_quality` measures the batch — completeness of emails, validity of amounts, uniqueness of ids,
   volume against the last production load — against the thresholds in `THRESHOLDS`, and renders the
   **quality metrics** as a Markdown table and a bar chart (an SVG drawn from the same figures with
   `airgate.bar_chart`, each threshold ticked) with the failing rows as examples. Failing checks are shown,
   not hidden: the steward decides.
3. `stage_batch` loads the batch into a staging table of the warehouse (a SQLite file in Airflow's home),
   never into production.
4. `quality_review` waits for the steward (`AirgateBranchOperator`, at most 4 hours, no worker slot):
   **Approve** runs `publish_to_production`, which moves the staged rows into `orders` in one transaction;
   **Reject** (a reason is required) runs `rollback_staging`, which drops the staged rows — **rollback on
   rejection**: production never saw them. Nobody answering in time counts as *Reject*.
5. `report_quality_gate` records what was decided on which figures, whatever the outcome.

Policy `quality-gate` (in `bridge/examples/reference-dags.policies.yaml`): one data steward; the requester
never approves. A run the asset triggered has no person who triggered it, so the policy's
`unattended_requester: [owners]` makes the DAG's owner (`bob`, who runs the pipeline) the requester: the
person who owns the pipeline cannot wave its data through either.

## Try it
Post an asset event for `raw_orders` (Airflow's **Assets** page, or `POST /api/v2/assets/events`) — or
trigger `120_10_01_quality_gate` as alice with `{"defect_rate": 0.2}` to see checks fail. As carol open
**Approvals**, read the metrics and approve or reject with a reason; look at `report_quality_gate`'s XCom.
"""

RAW_ORDERS = Asset(name="raw_orders", uri="airgate://warehouse/raw_orders")
# Smallest share of good rows per check, and how far a batch's volume may move from the last load.
THRESHOLDS = {"email_complete": 0.99, "amount_valid": 0.995, "id_unique": 1.0, "volume_change": 0.5}
COLUMNS = "order_id TEXT, email TEXT, amount REAL, country TEXT, run_id TEXT"


def _warehouse() -> AbstractContextManager[sqlite3.Connection]:
    """The warehouse in one transaction: committed when the block ends, rolled back when it raises."""
    return local_db(
        "120_10_01",
        "warehouse.db",
        f"CREATE TABLE IF NOT EXISTS orders ({COLUMNS})",
        f"CREATE TABLE IF NOT EXISTS staging ({COLUMNS})",
    )


@dag(
    dag_id="120_10_01_quality_gate",
    schedule=[RAW_ORDERS],
    catchup=False,
    doc_md=DOC,
    tags=["reference", "real-world", "intermediate", "success"],
    default_args={"owner": "bob"},
    params={
        "seed": Param(7, type="integer", description="Seed of the generated batch"),
        "batch_size": Param(400, type="integer", minimum=10, maximum=10000, description="Rows in the batch"),
        "defect_rate": Param(0.0, type="number", minimum=0, maximum=1, description="Share of defective rows"),
    },
)
def quality_gate() -> None:
    @task
    def extract_batch(params: dict[str, Any]) -> list[dict[str, Any]]:
        rng = random.Random(params["seed"])
        rows: list[dict[str, Any]] = []
        for n in range(params["batch_size"]):
            row = {
                "order_id": f"o-{params['seed']}-{n:05d}",
                "email": f"customer{rng.randrange(10_000)}@example.com",
                "amount": round(rng.uniform(5, 900), 2),
                "country": rng.choice(["DE", "FR", "NL", "PL", "SE"]),
            }
            if rng.random() < params["defect_rate"]:
                defect = rng.choice(["email", "amount", "order_id"])
                if defect == "email":
                    row["email"] = None
                elif defect == "amount":
                    row["amount"] = -row["amount"]
                elif rows:
                    row["order_id"] = rows[rng.randrange(len(rows))]["order_id"]
            rows.append(row)
        return rows

    @task
    def profile_quality(rows: list[dict[str, Any]]) -> dict[str, Any]:
        total = len(rows)
        seen: set[str] = set()
        repeated = []
        for row in rows:
            if row["order_id"] in seen:
                repeated.append(row)
            seen.add(row["order_id"])
        no_email = [row for row in rows if not row["email"]]
        bad_amount = [row for row in rows if row["amount"] <= 0]
        with _warehouse() as db:
            last = db.execute(
                "SELECT COUNT(*) FROM orders GROUP BY run_id ORDER BY MAX(rowid) DESC"
            ).fetchone()
        baseline = last[0] if last else None
        metrics = {
            "email_complete": round(1 - len(no_email) / total, 4),
            "amount_valid": round(1 - len(bad_amount) / total, 4),
            "id_unique": round(1 - len(repeated) / total, 4),
            "volume_change": None if baseline is None else round(abs(total - baseline) / baseline, 4),
        }
        failed = [
            name
            for name, value in metrics.items()
            if value is not None
            and (value > THRESHOLDS[name] if name == "volume_change" else value < THRESHOLDS[name])
        ]
        table = "\n".join(
            f"| {name} | {'n/a (first load)' if value is None else f'{value:.2%}'} | "
            f"{'≤' if name == 'volume_change' else '≥'} {THRESHOLDS[name]:.1%} | {'❌' if name in failed else '✅'} |"
            for name, value in metrics.items()
        )
        examples = (no_email + bad_amount + repeated)[:5]
        sample = "\n".join(
            f"- `{row['order_id']}` email={row['email']} amount={row['amount']}" for row in examples
        )
        chart = bar_chart(
            "Batch quality against thresholds",
            [
                Bar(name, value, THRESHOLDS[name], at_most=name == "volume_change")
                for name, value in metrics.items()
                if value is not None
            ],
        )
        markdown = (
            f"**{total} rows** (last production load: {baseline if baseline is not None else 'none'})\n\n"
            "| check | measured | threshold | |\n|---|---|---|---|\n"
            f"{table}\n\n{chart}\n\n"
            + (f"Failing rows (first {len(examples)}):\n{sample}" if examples else "No failing rows.")
        )
        return {"rows": total, "metrics": metrics, "failed": failed, "markdown": markdown}

    @task
    def stage_batch(rows: list[dict[str, Any]], run_id: str) -> int:
        with _warehouse() as db:
            db.execute("DELETE FROM staging WHERE run_id = ?", (run_id,))
            db.executemany(
                "INSERT INTO staging VALUES (:order_id, :email, :amount, :country, :run_id)",
                [{**row, "run_id": run_id} for row in rows],
            )
        return len(rows)

    quality_review = AirgateBranchOperator(
        task_id="quality_review",
        subject="Load batch of run {{ dag_run.run_id }} into production?",
        body="{{ ti.xcom_pull(task_ids='profile_quality')['markdown'] }}",
        options=["Approve", "Reject"],
        options_mapping={"Approve": "publish_to_production", "Reject": "rollback_staging"},
        response_timeout=timedelta(hours=4),
        defaults="Reject",
    )

    @task
    def publish_to_production(run_id: str) -> dict[str, int]:
        with _warehouse() as db:  # one transaction: the rows move, or nothing does
            moved = db.execute(
                "INSERT INTO orders SELECT * FROM staging WHERE run_id = ?", (run_id,)
            ).rowcount
            db.execute("DELETE FROM staging WHERE run_id = ?", (run_id,))
            (in_production,) = db.execute(
                "SELECT COUNT(*) FROM orders WHERE run_id = ?", (run_id,)
            ).fetchone()
        return {"loaded_rows": moved, "rows_in_production": in_production}

    @task
    def rollback_staging(run_id: str) -> dict[str, int]:
        with _warehouse() as db:
            dropped = db.execute("DELETE FROM staging WHERE run_id = ?", (run_id,)).rowcount
            (in_production,) = db.execute(
                "SELECT COUNT(*) FROM orders WHERE run_id = ?", (run_id,)
            ).fetchone()
        return {"discarded_rows": dropped, "rows_in_production": in_production}

    @task(trigger_rule="none_failed_min_one_success")
    def report_quality_gate(profile: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
        return {
            "decision": decision["chosen_options"][0],
            "timed_out": decision["responded_by_user"] is None,
            "failed_checks": profile["failed"],
            "metrics": profile["metrics"],
        }

    rows = extract_batch()
    profile = profile_quality(rows)
    staged = stage_batch(rows, run_id="{{ run_id }}")
    [profile, staged] >> quality_review
    paths = [publish_to_production(run_id="{{ run_id }}"), rollback_staging(run_id="{{ run_id }}")]
    quality_review >> paths >> report_quality_gate(profile, quality_review.output)


quality_gate()
