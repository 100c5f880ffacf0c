"""DAG run state management: hold runs for review by pausing, resume them, fail them, finish what is left."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import Param, dag, task

DOC = """
# DAG run state management

A run in flight can be held, let go, or stopped — and a stopped run can be finished later without redoing
what it already did. This DAG has four stages with a review window after the second:

`stage_extract` → `stage_transform` → `review_window` → `stage_load` → `stage_publish` → `completion_report`

`review_window` waits `hold_seconds` (conf, default 120) from the run's start, deferred on the triggerer (no
worker slot), so there is time to act before the irreversible stages.

## Pause runs for review — and resume them
Airflow pauses DAGs, not single runs, and a paused DAG **holds its runs in flight**: a running task finishes,
but the scheduler queues nothing new for any of its runs until it is resumed.
- Pause: airgate's **Run actions** tab → *Pause DAG*, with a reason (`{"kind": "pause_dag", "dag_id":
  "120_04_03_dagrun_state", "reason": ...}`). When `review_window` ends, `stage_load` stays unqueued.
- Resume: *Resume DAG* (`{"kind": "resume_dag", ...}`): `stage_load` and the rest run, the run succeeds.

## Mark a run as failed
*Mark run failed* (`{"kind": "mark_run_failed", "dag_id": ..., "run_id": ..., "reason": ...}`) ends the run
at once: the waiting task fails, the stages not yet run are **skipped**, finished ones keep their state, and
the run's note names who stopped it and why.

## Handle partial completion
A failed run is partially complete: `stage_extract` and `stage_transform` succeeded, the rest did not run.
To finish it, **clear the first unfinished stage with its downstream** (*Clear task* on `review_window`,
*Also clear downstream tasks*: `{"kind": "clear_task", ..., "task_id": "review_window",
"include_downstream": true, ...}`). The run becomes running again and only the unfinished stages run;
each stage is idempotent (keyed on the run), so a stage that did run could be cleared again safely.
`completion_report` lists which stages ran in this run.

## Try it
Trigger `120_04_03_dagrun_state`, pause it while `review_window` waits, resume it; trigger again and mark
that run failed, then clear `review_window` with downstream.
"""

STAGES = ["stage_extract", "stage_transform", "stage_load", "stage_publish"]


@dag(
    dag_id="120_04_03_dagrun_state",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "intermediate", "success"],
    params={"hold_seconds": Param(120, type="integer", minimum=0, maximum=3600)},
)
def dagrun_state() -> None:
    @task
    def stage(**context: Any) -> dict[str, Any]:
        # Idempotent: the output is keyed on the run, so running a stage again rewrites the same result.
        return {"stage": context["ti"].task_id, "key": context["run_id"]}

    review_window = DateTimeSensorAsync(
        task_id="review_window",
        target_time="{{ (dag_run.start_date + macros.timedelta(seconds=params.hold_seconds)).isoformat() }}",
        timeout=timedelta(hours=1).total_seconds(),
    )

    @task(trigger_rule="all_done")
    def completion_report(**context: Any) -> dict[str, bool]:
        results = context["ti"].xcom_pull(task_ids=STAGES)
        return {name: result is not None for name, result in zip(STAGES, results, strict=True)}

    extract, transform, load, publish = (stage.override(task_id=name)() for name in STAGES)
    extract >> transform >> review_window >> load >> publish >> completion_report()


dagrun_state()
