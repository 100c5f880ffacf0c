"""Manual trigger: a scheduled DAG that people also run by hand, with approval parameters in the run's conf."""

from __future__ import annotations

from typing import Any

from airflow.sdk import CronTriggerTimetable, Param, dag, task

from airgate import count_outcome

DOC = """
# Manual task trigger

This DAG runs every day on its own, and people may run it by hand in between — for a backfill after a fix, a
full refresh a customer asked for. A manual run is an exception, so it carries its **approval parameters in
the run's conf**, and the DAG tells the two kinds of run apart.

## Trigger it manually, with conf
- **airgate's Run actions tab** (on any run of this DAG) → *Trigger run*: put `{"change_ticket": "CHG-1234"}`
  (and `"full_refresh": true` if wanted) in the run configuration, give a reason, *Review* what will happen
  and *Confirm*. The bridge triggers the run **as you** — through its API: `POST /api/v1/actions`
  `{"kind": "trigger_run", "dag_id": "120_04_01_manual_trigger", "conf": {...}, "reason": "..."}`, then
  `POST /api/v1/actions/confirm {"token": ...}`. The reason is in the bridge's audit trail and in the run's
  note (`alice via airgate: ...`).
- Airflow's own *Trigger* button works too: the same Params render as its trigger form.

Airflow validates the conf against the Params (`change_ticket` must look like `CHG-<number>`) and refuses a
bad one before any run exists; `manual_refresh` also refuses a manual run without a ticket.

## Identify manual runs
`identify_run` reads the run itself: `run_type` (`manual` or `scheduled`) and `triggering_user_name` (who
triggered it; empty for the scheduler). Airflow's REST API and UI add `triggered_by` (`rest_api`, `ui`,
`cli`, ...) and the run's note. `route_by_run_type` then branches: manual runs do `manual_refresh` with
their ticket, scheduled runs the usual `scheduled_increment`.

## Track manual vs scheduled runs
`track_run` records the run's kind, user and ticket in XCom and counts it in Airflow's metrics
(`airgate.runs.manual` / `.scheduled`, tagged with the DAG id). Airflow's *Runs* list filters by run type and by
triggering user.

## Try it
Unpause the DAG: its first scheduled run starts at once (`run_immediately`). Then trigger it from the
**Run actions** tab with a ticket, and compare the two runs' `identify_run` and `track_run` results.
"""


@dag(
    dag_id="120_04_01_manual_trigger",
    # run_immediately: the first scheduled run starts when the DAG is unpaused, not at the next midnight.
    schedule=CronTriggerTimetable("@daily", timezone="UTC", run_immediately=True),
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "beginner", "success"],
    params={
        "change_ticket": Param(
            "", type="string", pattern=r"^(CHG-[0-9]+)?$", description="The approved change (manual runs)"
        ),
        "full_refresh": Param(False, type="boolean", description="Reload everything instead of one day"),
    },
)
def manual_trigger() -> None:
    @task
    def identify_run(**context: Any) -> dict[str, Any]:
        run = context["dag_run"]
        return {
            "run_type": run.run_type,
            "manual": run.run_type == "manual",
            "triggered_by_user": run.triggering_user_name,
        }

    @task.branch
    def route_by_run_type(run: dict[str, Any]) -> str:
        return "manual_refresh" if run["manual"] else "scheduled_increment"

    @task
    def manual_refresh(params: dict[str, Any]) -> dict[str, Any]:
        if not params["change_ticket"]:
            raise ValueError("a manual run needs the approved change_ticket in its conf")
        return {"ticket": params["change_ticket"], "mode": "full" if params["full_refresh"] else "day"}

    @task
    def scheduled_increment(**context: Any) -> dict[str, Any]:
        return {"mode": "day", "interval_end": str(context["data_interval_end"])}

    @task(trigger_rule="none_failed_min_one_success")
    def track_run(run: dict[str, Any], params: dict[str, Any], ti: Any) -> dict[str, Any]:
        count_outcome("runs", run["run_type"], dag_id=ti.dag_id)
        return {**run, "change_ticket": params["change_ticket"] or None}

    run = identify_run()
    route_by_run_type(run) >> [manual_refresh(), scheduled_increment()] >> track_run(run)


manual_trigger()
