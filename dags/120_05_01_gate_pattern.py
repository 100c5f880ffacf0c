"""Gate-based approvals: people open a gate between pipeline phases; gates can be bypassed, passages are counted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import REQUESTED_AT_KEY, AirgateApprovalOperator, GatePassage, gate_passage

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
- Who opens which gate is the bridge's business, not the DAG's: `dags/policies.yaml` sends `quality_gate`
  to the data stewards and `publish_gate` to the release managers (policies `gate-quality`, `gate-publish`).

## Bypass
An emergency run may skip the gates. Trigger with conf `{"bypass_gates": true, "bypass_reason": "..."}`;
`*_bypass_check` tasks then route around each gate. A bypass without a reason fails
`quality_gate_bypass_check`, so no later phase runs (`track_gate_metrics` still reports, as the last task). Trigger it
through the Approvals UI (or `POST /api/v1/actions` with `kind: trigger_run`) so the bridge's audit trail
records who bypassed and why; the run's note names them too.

## Gate metrics
`track_gate_metrics` runs whatever happened and reports each gate's passage: the outcome (`approve`,
`reject`, `bypassed`, `not_reached`), whether the timeout decided, and how long the pipeline waited at the
gate (from the question, recorded by airgate as the gate's `airgate_requested_at` XCom, to the answer). Who
opened or closed a gate, and why, is in the gate's task note and the bridge's audit trail. The same numbers go
to Airflow's metrics as `airgate.gate.<gate>.<outcome>` counters and `airgate.gate.<gate>.wait` timers.

## Try it
Trigger `120_05_01_gate_pattern` as alice; as bob (a data steward and release manager) approve
`quality_gate` in **Approvals**, then `publish_gate`. Trigger again and reject the first gate: `transform`
and `publish` are skipped. Trigger once more with `bypass_gates` on and a reason: no gate asks anybody.
"""

GATES = {"quality_gate": "Quality gate", "publish_gate": "Publish gate"}


def bypass_granted(params: dict[str, Any]) -> bool:
    return bool(params["bypass_gates"] and params["bypass_reason"].strip())


@dag(
    dag_id="120_05_01_gate_pattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
    params={
        "bypass_gates": Param(False, type="boolean", description="Skip every gate (emergency runs only)."),
        "bypass_reason": Param("", type="string", description="Why the gates are bypassed; required then."),
    },
)
def gate_pattern() -> None:
    @task
    def extract() -> dict[str, int]:
        return {"rows": 5000, "null_keys": 0}

    @task
    def transform(batch: dict[str, int]) -> dict[str, int]:
        return {**batch, "aggregates": 42}

    @task
    def publish(result: dict[str, int]) -> str:
        return f"published {result['aggregates']} aggregates"

    @task.branch
    def bypass_check(gate: str, after: str, params: dict[str, Any]) -> str:
        if params["bypass_gates"] and not bypass_granted(params):
            raise ValueError("a bypass needs a bypass_reason, so the audit trail says why")
        return after if bypass_granted(params) else gate

    def gate_between(before: Any, gate_id: str, after: Any) -> AirgateApprovalOperator:
        gate = AirgateApprovalOperator(
            task_id=gate_id,
            subject=f"{GATES[gate_id]}: continue run {{{{ dag_run.run_id }}}}?",
            body=f"Output of `{before.operator.task_id}`:\n\n{{{{ ti.xcom_pull(task_ids='{before.operator.task_id}') }}}}",
            response_timeout=timedelta(hours=8),
            defaults="Reject",
        )
        check = bypass_check.override(task_id=f"{gate_id}_bypass_check")(gate_id, after.operator.task_id)
        before >> check >> [gate, after]
        gate >> after
        return gate

    batch = extract()
    result = transform.override(trigger_rule="none_failed_min_one_success")(batch)
    published = publish.override(trigger_rule="none_failed_min_one_success")(result)
    gates = [gate_between(batch, "quality_gate", result), gate_between(result, "publish_gate", published)]

    @task(trigger_rule="all_done")
    def track_gate_metrics(params: dict[str, Any], **context: Any) -> list[GatePassage]:
        ti = context["ti"]
        return [
            gate_passage(
                gate.task_id,
                ti.xcom_pull(task_ids=gate.task_id),
                ti.xcom_pull(task_ids=gate.task_id, key=REQUESTED_AT_KEY),
                bypassed=bypass_granted(params),
            )
            for gate in gates
        ]

    published >> track_gate_metrics()


gate_pattern()
