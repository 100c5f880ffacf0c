"""Task pause: one task pauses the run, the pause lives in the bridge, an external signal resumes it, a timeout ends it."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import REQUESTED_AT_KEY, ApprovalStatusSensor, RequestApprovalOperator, approval_status

#: The sensor's own limit, only for a bridge that cannot say: well past the policy's timeout.
SENSOR_BACKSTOP = timedelta(minutes=5)

DOC = """
# Task-level pause

Sometimes one step must wait for something outside Airflow: a warehouse maintenance window, a vendor's file
freeze, an on-call engineer saying "go". Pausing the whole DAG (120.6.1) stops every run; a **task-level pause**
stops just this run, right before the step that must not happen yet:

`stage_batch` → **`pause_for_window`** → **`wait_for_resume`** → `load_batch` → `report_pause`

## The task that pauses the workflow
`pause_for_window` (`RequestApprovalOperator`, options *Resume* / *Abort*) opens the pause and ends at once;
`wait_for_resume` (`ApprovalStatusSensor`, `mode="reschedule"`, a poke every 10 s) holds it. Between pokes
the sensor is `up_for_reschedule`: no worker slot is held however long the pause lasts. Not much faster: a poke
that comes back before the scheduler has handled the previous poke's exit is failed as "changed externally"
(Airflow 3.3, `jobs/scheduler_job_runner.py`, `process_executor_events`: same try, state scheduled or queued,
not requeued by another job), which a busy scheduler makes likely at a few seconds.

## Pause state lives outside the worker
The pause is an external approval in the bridge's store: who opened it, when, and — once ended — who ended it,
through which channel, and why. A worker that dies, a scheduler restart, a sensor rescheduled onto another
worker: none of them lose the pause, because nothing of it lives in a process. Anyone can read it:
`GET /api/v1/signals/approvals?dag_id=120_06_02_task_pause&run_id=…&task_id=pause_for_window`.

## Resume via an external signal
The system that knows when the window is over resumes the run with the bridge's signed webhook, as the
ops portal of 120.3.1 does: `POST /hooks/ops` with `{"approval_id": …, "user": "carol", "option": "Resume"}`,
signed with the source's secret. A person can do the same from **Approvals**. Either way the bridge's
policy (`task-pause`: the change managers) decides who may end the pause, and *Abort* needs a reason.

## Pause timeout
A pause nobody ends must not last forever. Policy `task-pause` expires it after 30 s (`deadline`): the bridge
records it as `expired`, the sensor sees that and skips `load_batch`. The sensor's own `timeout` (5 min) is
only a backstop for a bridge that cannot answer. `report_pause` runs on every path and says how the pause
ended (`resumed`, `aborted`, `timed_out`), who ended it, through which channel, and how long it lasted; a
run that did not resume releases the staged rows instead of loading them.

## Try it
Trigger `120_06_02_task_pause` as alice. Resume it as bob in **Approvals**, or post the signed webhook as carol
(the command is in 120_03_01's doc, with option `Resume`); trigger again and leave it: after 30 s the pause
times out and `report_pause` says so.
"""


@dag(
    dag_id="120_06_02_task_pause",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def task_pause() -> None:
    @task
    def stage_batch(**context: Any) -> dict[str, Any]:
        rng = random.Random(context["run_id"])
        rows = [{"order": n, "amount_cents": rng.randint(100, 50_000)} for n in range(1, 401)]
        return {"rows": len(rows), "amount_cents": sum(r["amount_cents"] for r in rows)}

    pause = RequestApprovalOperator(
        task_id="pause_for_window",
        subject="Paused before loading {{ ti.xcom_pull(task_ids='stage_batch')['rows'] }} staged rows "
        "of {{ dag_run.run_id }}: resume when the maintenance window is over",
        body="Resume when the warehouse is writable again; Abort releases the staged rows. "
        "The pause times out after 30 s (policy `task-pause`).",
        options=["Resume", "Abort"],
    )

    wait = ApprovalStatusSensor(
        task_id="wait_for_resume",
        request_task_id="pause_for_window",
        poke_interval=10,
        timeout=SENSOR_BACKSTOP.total_seconds(),
        mode="reschedule",
    )

    @task
    def load_batch(batch: dict[str, Any]) -> str:
        return f"loaded {batch['rows']} rows, {batch['amount_cents'] / 100:.2f} EUR"

    @task(trigger_rule="all_done")
    def report_pause(batch: dict[str, Any], **context: Any) -> dict[str, Any]:
        status = approval_status(context["dag"].dag_id, context["run_id"], "pause_for_window")
        if status is None:
            raise ValueError("the bridge has no record of this run's pause")
        outcome = {"approved": "resumed", "rejected": "aborted", "expired": "timed_out"}.get(
            status["state"], status["state"]
        )
        ender = status["deciders"][-1] if status["deciders"] else None
        started = context["ti"].xcom_pull(task_ids="pause_for_window", key=REQUESTED_AT_KEY)
        ended = status["decided_at"]
        return {
            "outcome": outcome,
            "ended_by": ender["user"] if ender else None,
            "channel": ender["channel"] if ender else None,
            "reason": ender["reason"] if ender else None,
            "paused_s": round(
                (datetime.fromisoformat(ended) - datetime.fromisoformat(started)).total_seconds(), 1
            )
            if ended and started
            else None,
            "released_rows": 0 if outcome == "resumed" else batch["rows"],
        }

    batch = stage_batch()
    batch >> pause >> wait >> load_batch(batch) >> report_pause(batch)


task_pause()
