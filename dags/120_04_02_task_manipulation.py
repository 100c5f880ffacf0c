"""Task instance manipulation: a step people mark success by hand, and a load they clear to run again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

DOC = """
# Task instance manipulation

Two everyday interventions, both done through airgate's actions so each one needs a reason, is confirmed
against Airflow's own dry run, is applied **as the person** (Airflow's roles decide whether they may) and
is audited.

`extract` → `wait_for_vendor_signoff` → `load_partition` → `publish_report`

## Mark a task as success
`wait_for_vendor_signoff` stands for a step only a person can complete — the vendor confirmed the file by
phone. It is a reschedule-mode sensor that never succeeds on its own (no worker slot between pokes, gives up
after 2 hours): **a person marks it success**.
- UI: open the task instance → airgate's **Task actions** tab → *Mark task success*, reason, *Review*,
  *Confirm*.
- API: `POST /api/v1/actions` `{"kind": "mark_task", "dag_id": "120_04_02_task_manipulation", "run_id": ...,
  "task_id": "wait_for_vendor_signoff", "state": "success", "reason": "vendor confirmed by phone"}`, then
  `POST /api/v1/actions/confirm`.

Downstream effects: with `include_downstream: false` (the default) only the sign-off is marked and
`load_partition` and `publish_report` then **run** normally. With `include_downstream: true` they would be
marked success **without running** — right only when their work was done elsewhere. Marking the sign-off
*failed* instead stops the run: its downstream tasks become `upstream_failed`.

## Clear a task to force a re-run
When the source is corrected after the load, clear `load_partition` **with downstream**
(`{"kind": "clear_task", ..., "task_id": "load_partition", "include_downstream": true, "reason": ...}`):
the confirmation names every task that will run again (`clears 2 tasks: load_partition, publish_report`),
and after confirming both run again — `load_partition` reports its new `try_number`. Without downstream,
`publish_report` would keep the old numbers.

## Audit
Each change leaves three traces: the bridge's audit trail (`action.prepared` and `action.applied` with the
person, the reason and the effect; `GET /api/v1/audit`), a task note `alice via airgate: <reason>` on every
task it touched, and Airflow's own audit log, which names the person because the bridge acted with their
token.

## Try it
Trigger `120_04_02_task_manipulation`, mark `wait_for_vendor_signoff` success with a reason, then clear
`load_partition` with downstream and watch both tasks run again.
"""


@dag(
    dag_id="120_04_02_task_manipulation",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "intermediate", "success"],
)
def task_manipulation() -> None:
    @task
    def extract() -> dict[str, Any]:
        return {"partition": "2024-06-01", "rows": 1500}

    @task.sensor(poke_interval=30, timeout=timedelta(hours=2).total_seconds(), mode="reschedule")
    def wait_for_vendor_signoff() -> bool:
        # Nothing the pipeline can check tells it the vendor confirmed: a person marks this task success.
        return False

    @task
    def load_partition(batch: dict[str, Any], **context: Any) -> dict[str, Any]:
        return {**batch, "try_number": context["ti"].try_number}

    @task
    def publish_report(loaded: dict[str, Any]) -> str:
        return f"{loaded['rows']} rows of {loaded['partition']} (load try {loaded['try_number']})"

    batch = extract()
    loaded = load_partition(batch)
    batch >> wait_for_vendor_signoff() >> loaded
    publish_report(loaded)


task_manipulation()
