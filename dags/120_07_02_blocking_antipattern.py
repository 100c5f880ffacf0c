"""Anti-pattern: a wait that blocks a worker slot, beside the fixes that hold none: reschedule mode and awaiting_input."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, ApprovalStatusSensor, RequestApprovalOperator

#: The pool every wait of this DAG runs in, so its slots show what each kind of wait costs.
POOL = "hitl_waits"

DOC = f"""
# Anti-pattern: blocking without deferral

## The failure
`blocking_wait` polls the bridge for a decision with `mode="poke"`: between pokes it sleeps **inside a
running task**, holding a worker slot and a slot of pool `{POOL}` for as long as people take. Ten such
waits fill a ten-slot worker; the eleventh pipeline queues behind people who are at lunch (**resource
exhaustion**). Its `timeout` (90 s here) is the guard that keeps the demo bounded.

## The fixes, in the same run and the same pool
- `rescheduled_wait`: the same sensor with `mode="reschedule"`: between pokes (every 15 s) the task is
  `up_for_reschedule` and holds nothing; a slot is taken only for the second a poke lasts.
- `native_gate`: an `AirgateApprovalOperator`. On Airflow 3.3 it waits in `awaiting_input`, which no pool
  counts (`airflow/models/pool.py:269-294` counts `running`, `queued` and, if the pool says so, `deferred`):
  no worker, no triggerer, **zero slots** until the bridge answers. This is the deferrable pattern of 3.3;
  prefer it to any sensor when the question is asked by the DAG itself.

## Measured
The scenario (`test/integration/anti-patterns.test.ts`) reads `GET /api/v2/pools/{POOL}` while all three
wait: `running_slots` is **1** (the blocking sensor alone); the native gate's wait adds **0** and the
rescheduled sensor **0** between pokes. Multiply the 1 by every approval waiting at once.

## Try it
Create pool `{POOL}` (Admin → Pools, 4 slots), trigger `120_07_02_blocking_antipattern` as alice and watch
the pool's running slots; approve the three requests as bob in **Approvals**.
"""


@dag(
    dag_id="120_07_02_blocking_antipattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "anti-pattern", "intermediate", "failure"],
    default_args={"pool": POOL},
)
def blocking_antipattern() -> None:
    request_blocking = RequestApprovalOperator(task_id="request_blocking", subject="Load batch A?")
    # ANTI-PATTERN: poke mode sleeps in a running task between pokes.
    blocking_wait = ApprovalStatusSensor(
        task_id="blocking_wait",
        request_task_id="request_blocking",
        mode="poke",
        poke_interval=2,
        timeout=timedelta(seconds=90).total_seconds(),
    )

    request_rescheduled = RequestApprovalOperator(task_id="request_rescheduled", subject="Load batch B?")
    # FIX 1: reschedule mode frees the slot between pokes.
    rescheduled_wait = ApprovalStatusSensor(
        task_id="rescheduled_wait",
        request_task_id="request_rescheduled",
        mode="reschedule",
        # Longer than the executor's report of a poke can lag under load: Airflow 3.3.2 fails a rescheduled
        # task whose previous poke's "success" event arrives after it was queued again.
        poke_interval=15,
        timeout=timedelta(seconds=90).total_seconds(),
    )

    # FIX 2: the native HITL wait holds no slot at all.
    native_gate = AirgateApprovalOperator(
        task_id="native_gate",
        subject="Load batch C?",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def load(batch: str) -> str:
        return f"loaded batch {batch}"

    request_blocking >> blocking_wait >> load.override(task_id="load_a")("A")
    request_rescheduled >> rescheduled_wait >> load.override(task_id="load_b")("B")
    native_gate >> load.override(task_id="load_c")("C")


blocking_antipattern()
