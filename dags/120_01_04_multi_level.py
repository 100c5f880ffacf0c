"""Multi-level approvals: a quorum, a sequential chain and parallel reviews, decided by the bridge's policies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task, teardown

from airgate import AirgateApprovalOperator
from airgate.hooks.bridge import approval_status

DOC = """
# Multi-level approvals

Some decisions need more than one yes. This DAG asks for three kinds at once, and none of the rules
live in DAG code: the bridge's policies file (`bridge/examples/reference-dags.policies.yaml`) says who decides and how many
must agree, matched on this DAG's id and each task's id. Change the file and pending approvals follow.

| task | policy | rule |
|---|---|---|
| `quorum_gate` | `multi-level-quorum` | 2 of the 3 data stewards (N of M); the requester may not approve |
| `chain_gate` | `multi-level-chain` | sequential: the team lead first, then *all* release managers (unanimous) |
| `parallel_gate` | `multi-level-parallel` | parallel groups in one level: legal (any) **and** security (majority) |

Each gate is one native HITL task waiting in `awaiting_input`; the bridge counts the votes, opens the
next level when a level's rule is met, refuses a person who is not eligible at the open level (403),
and answers Airflow once, when the outcome is final. Only then does the task continue.

Every wait is bounded twice: each gate policy has a deadline (2 hours, then the request is rejected) and each
task an Airflow `response_timeout` (4 hours, the last word). Conf `{"quick_deadline": true}` selects the
`multi-level-quick-deadline` policy, whose 20 s deadline lets you watch the timeout path.

## Tracking progress
The Approvals page shows each gate's open level (e.g. *2 of 2*) and the votes so far (e.g. *1 of 2*);
`GET /api/v1/approvals/{id}` returns the same as `progress`. When the gates are done, `report_progress`
asks the bridge for each gate's record (`GET /api/v1/signals/approvals`): its final state (approved,
rejected, expired), the option, when, and every vote counted with who, what and why. It is a teardown task,
because a rejecting gate skips the tasks right after it (so `publish` does not run), never a teardown. The task notes name
the same people.

## Try it
Trigger `120_01_04_multi_level` as alice. Then, signed in as the people the table names (bob, carol,
admin), open **Approvals** and vote. alice cannot approve her own quorum request.
"""


@dag(
    dag_id="120_01_04_multi_level",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
)
def multi_level() -> None:
    @task
    def prepare_release() -> dict[str, str]:
        return {"version": "2.4.0", "change": "payments v2"}

    release = prepare_release()
    gates = [
        AirgateApprovalOperator(
            task_id=task_id,
            subject=f"{title}: release {{{{ ti.xcom_pull(task_ids='prepare_release')['version'] }}}}",
            body="Change: {{ ti.xcom_pull(task_ids='prepare_release')['change'] }}",
            defaults="Reject",
            response_timeout=timedelta(hours=4),
        )
        for task_id, title in [
            ("quorum_gate", "Data stewards' quorum"),
            ("chain_gate", "Lead, then release managers"),
            ("parallel_gate", "Legal and security review"),
        ]
    ]

    # A teardown: a rejecting gate skips its direct downstream tasks, but never a teardown, so the report is
    # written whatever the gates decided, once all of them are done.
    @teardown
    def report_progress(dag_run: Any) -> dict[str, dict[str, Any]]:
        report: dict[str, dict[str, Any]] = {}
        for gate in gates:
            record = approval_status(dag_run.dag_id, dag_run.run_id, gate.task_id)
            if record is None:
                report[gate.task_id] = {"state": "not requested", "votes": []}
                continue
            report[gate.task_id] = {
                "state": record["state"],
                "option": record["option"],
                "decided_at": record["decided_at"],
                "votes": [f"{d['option']} by {d['user']}" for d in record["deciders"]],
            }
        return report

    @task
    def publish(version: dict[str, str]) -> str:
        return f"released {version['version']}"

    progress = report_progress()
    release >> gates
    gates >> progress
    gates >> publish(release)


multi_level()
