"""Gate-based approvals: people open a gate between pipeline phases; gates can be bypassed, passages are counted."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import REQUESTED_AT_KEY, AirgateApprovalOperator, GatePassage, approval_status, gate_passage

DOC = """
# Gate-based approval pattern

A **gate** is an approval task placed *between* two phases of a pipeline: the phase before it has produced
something a person can judge, the phase after it is the costly or visible one. This DAG has three phases and
two gates:

`extract` → **`quality_gate`** → `transform` → **`publish_gate`** → `publish`

## Designing a gate
- Each gate is one `AirgateApprovalOperator`: it asks, waits in `awaiting_input` (no worker slot) for at
  most `response_timeout`, and on *Reject* (or the timeout's default, *Reject*) skips the next phase and
  everything after it. The run still succeeds: a rejection is a decision, not an error.
- Who opens which gate is the bridge's business, not the DAG's: `bridge/examples/reference-dags.policies.yaml` sends `quality_gate`
  to the data stewards and `publish_gate` to the release managers (policies `gate-quality`, `gate-publish`).

## Bypass (break-glass, through the bridge)
An emergency may not wait for a gate. The gate still asks; someone the gate's policy names under
`break_glass.allowed` (policies `gate-quality` and `gate-publish`: carol, the on-call engineer) bypasses it
in **Approvals** with **Break glass** and a required reason, or with
`POST /api/v1/approvals/{id}/bypass {"reason": "..."}`. The bridge answers the gate at once (the run goes on),
records the approval as `bypassed` with who and why (task note and audit), and opens an after-the-fact
**review** for the policy's reviewers, which the bypasser may not decide. Anyone else is refused (403), and
the refusal is audited. No conf flag can skip a gate: whoever may trigger a run could set one.

## Gate metrics
`track_gate_metrics` runs whatever happened and reports each gate's passage: the outcome (`approve`,
`reject`, `bypassed` with who broke the glass, `not_reached`), whether the timeout decided, and how long the
pipeline waited at the gate (from the question, recorded by airgate as the gate's `airgate_requested_at` XCom, to the answer). Who
opened or closed a gate, and why, is in the gate's task note and the bridge's audit trail. The same numbers go
to Airflow's metrics as `airgate.gate.<gate>.<outcome>` counters and `airgate.gate.<gate>.wait` timers.

## Try it
Trigger `120_05_01_gate_pattern` as alice; as bob (a data steward and release manager) approve
`quality_gate` in **Approvals**, then `publish_gate`. Trigger again and reject the first gate: `transform`
and `publish` are skipped. Trigger once more and, as carol, break the glass on `quality_gate` with a reason:
the run goes on at once, and bob finds the review of the bypass in **Approvals**.
"""

GATES = {"quality_gate": "Quality gate", "publish_gate": "Publish gate"}


@dag(
    dag_id="120_05_01_gate_pattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
)
def gate_pattern() -> None:
    @task
    def extract(**context: Any) -> dict[str, int]:
        rng = random.Random(context["run_id"])
        keys = [rng.choice([None, *range(1, 200)]) for _ in range(5000)]
        return {"rows": len(keys), "null_keys": keys.count(None), "distinct_keys": len(set(keys) - {None})}

    @task
    def transform(batch: dict[str, int]) -> dict[str, int]:
        # One aggregate per distinct key: what the publish phase exposes.
        return {**batch, "aggregates": batch["distinct_keys"]}

    @task
    def publish(result: dict[str, int]) -> str:
        return f"published {result['aggregates']} aggregates"

    def gate_between(before: Any, gate_id: str, after: Any) -> AirgateApprovalOperator:
        gate = AirgateApprovalOperator(
            task_id=gate_id,
            subject=f"{GATES[gate_id]}: continue run {{{{ dag_run.run_id }}}}?",
            body=f"Output of `{before.operator.task_id}`:\n\n{{{{ ti.xcom_pull(task_ids='{before.operator.task_id}') }}}}",
            response_timeout=timedelta(hours=8),
            defaults="Reject",
        )
        before >> gate >> after
        return gate

    batch = extract()
    result = transform(batch)
    published = publish(result)
    gates = [gate_between(batch, "quality_gate", result), gate_between(result, "publish_gate", published)]

    @task(trigger_rule="all_done")
    def track_gate_metrics(**context: Any) -> list[GatePassage]:
        ti = context["ti"]
        return [
            gate_passage(
                gate.task_id,
                ti.xcom_pull(task_ids=gate.task_id),
                ti.xcom_pull(task_ids=gate.task_id, key=REQUESTED_AT_KEY),
                approval_status(ti.dag_id, ti.run_id, gate.task_id),
            )
            for gate in gates
        ]

    published >> track_gate_metrics()


gate_pattern()
