"""DAG pause: pause a DAG through the bridge while a task runs and an approval waits, resume it, and read the pause history."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, DecisionRecord, decision_record_of

#: Batches `load_batches` loads, one a second (the warehouse's rate limit): long enough to pause it mid-way.
BATCHES = 30

DOC = f"""
# DAG pause mechanisms

Pausing a DAG stops Airflow from scheduling its work: no new runs, and no new task starts in the runs already
going. What was already under way is another matter, and this DAG shows both kinds of in-flight work:
`load_batches` is **running** ({BATCHES} batches, one a second) while `approve_publish` **waits for a decision**.

## Pause and resume through the bridge
The **Run actions** tab (or `POST /api/v1/actions` with `{{"kind": "pause_dag", "dag_id": ..., "reason": ...}}`,
then `POST /api/v1/actions/confirm`) pauses the DAG with the person's own Airflow token, so Airflow's roles decide
who may; `resume_dag` undoes it. Both need a reason, and both are audited.

## What happens to in-flight tasks
| in flight when paused | while paused | on resume |
|---|---|---|
| `load_batches`, running | runs to the end: a worker already has it | - |
| `approve_publish`, awaiting input | people still decide: the vote counts and the bridge answers Airflow; the task then waits `scheduled`, not resumed | resumes with the decision |
| `publish`, not started | not scheduled | runs |

So a pause is a safe stop between tasks, never a kill: use **mark failed** for that.

## Pause history
Every pause and resume is an audit entry (`action.applied`, actor, reason, time). The **Audit** page filters
the trail by DAG, action, actor and time: DAG `120_06_01_dag_pause` with action `action.applied` is this DAG's
pause history (`GET /api/v1/audit?dag_id=120_06_01_dag_pause&action=action.applied`).

## Try it
Trigger `120_06_01_dag_pause` as alice and, while `load_batches` runs, pause the DAG from **Run actions**
with a reason. Approve as bob: `approve_publish` goes `scheduled` and stays there while `load_batches`
finishes. Resume: the run completes. Then open **Audit** and filter by the DAG.
"""


@dag(
    dag_id="120_06_01_dag_pause",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "core", "beginner", "success"],
)
def dag_pause() -> None:
    @task
    def extract() -> list[list[int]]:
        return [[batch * 100 + row for row in range(50)] for batch in range(BATCHES)]

    @task(execution_timeout=timedelta(minutes=5))
    def load_batches(batches: list[list[int]]) -> dict[str, Any]:
        digest = hashlib.sha256()
        for rows in batches:
            digest.update(repr(rows).encode())
            time.sleep(1)  # the warehouse's rate limit: one batch a second
        return {
            "batches": len(batches),
            "rows": sum(len(rows) for rows in batches),
            "sha256": digest.hexdigest(),
        }

    approve_publish = AirgateApprovalOperator(
        task_id="approve_publish",
        subject="Publish the {{ ti.xcom_pull(task_ids='extract') | length }} batches of run {{ run_id }}?",
        body="Pausing the DAG does not stop this question: a decision taken while paused applies on resume.",
        response_timeout=timedelta(minutes=10),
        defaults="Reject",
    )

    @task
    def publish(loaded: dict[str, Any], **context: Any) -> dict[str, Any]:
        record: DecisionRecord = decision_record_of(context["ti"], "approve_publish")
        return {
            "published_rows": loaded["rows"],
            "sha256": loaded["sha256"],
            "approved_by": record["deciders"],
        }

    batches = extract()
    loaded = load_batches(batches)
    batches >> approve_publish >> publish(loaded)


dag_pause()
