"""Testing concurrent approvals: many shard approvals pending at once, racing voters, and a check that both sides agree."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateHITLOperator, approval_status, disagreements

#: How many shards each run asks about at once.
SHARDS = 6
#: Distinct people the policy (`concurrent-testing`) needs for a shard to be approved.
QUORUM = 2

DOC = f"""
# Testing concurrent approvals

Approvals rarely come one at a time. This DAG asks about {SHARDS} shards at once — `approve_shard` is mapped,
one approval per shard, all **pending together** — and its policy (`concurrent-testing`) needs {QUORUM} of
bob, carol and admin per shard, so voters race on the same approval. `approve_shard` does not branch:
every answer reaches `check_consistency`, which reads the bridge's record of each shard
(`airgate.approval_status(..., map_index=i)`) and fails the run unless, for every shard, the bridge is settled,
chose the option Airflow resumed with (`airgate.disagreements`), and an approval names {QUORUM} distinct people
(**state consistency**). `load_approved` loads the approved shards only.

## The tests
- On the real stack (`test/integration/testing-workflows.test.ts`): {SHARDS} approvals pending at once
  (**multiple pending approvals**); for each shard bob, carol and admin vote at the same instant — exactly
  {QUORUM} votes count, the third is refused with 409 and changes nothing (**race condition handling**); on one
  shard an approval and a rejection race, and the rejection wins whichever lands first. The **load test**
  prints the votes' count, throughput and latencies (never asserted: the machine's load is not the DAG's
  behaviour) and asserts only that every approval was decided exactly once.
- With `airgate.testing` (`airflow_plugin/tests/reference_dags/test_120_08_05_concurrent_testing.py`): a
  decision per mapped instance (`{{("approve_shard", 4): reject(...)}}`), and a bridge whose record disagrees
  with Airflow, or whose approval names one person, which `check_consistency` must catch.

## Try it
Trigger `120_08_05_concurrent_testing` as alice: **Approvals** lists {SHARDS} requests. Approve a shard as bob and
as carol (it is decided), then try as admin (refused: already approved). Unanswered shards are rejected after
90 s.
"""


def shard_rows(shard: int) -> list[int]:
    """The shard's rows: small generated data, different per shard."""
    return [(shard * 31 + row * 17) % 101 for row in range(40 + 15 * shard)]


@dag(
    dag_id="120_08_05_concurrent_testing",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "testing", "advanced", "success"],
)
def concurrent_testing() -> None:
    @task
    def plan_shards() -> list[str]:
        return [
            f"Shard {shard}: {len(rows)} rows, total {sum(rows)}."
            for shard, rows in ((s, shard_rows(s)) for s in range(SHARDS))
        ]

    approve_shard = AirgateHITLOperator.partial(
        task_id="approve_shard",
        subject="Load shard {{ ti.map_index }} of {{ dag_run.run_id }}?",
        options=["Approve", "Reject"],
        defaults=["Reject"],
        response_timeout=timedelta(minutes=5),
    ).expand(body=plan_shards())

    @task(trigger_rule="all_done")
    def check_consistency(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        shards: dict[str, str | None] = {}
        problems = []
        for shard in range(SHARDS):
            answer = ti.xcom_pull(task_ids="approve_shard", map_indexes=shard)
            status = approval_status(ti.dag_id, ti.run_id, "approve_shard", map_index=shard)
            found = disagreements(answer, status)
            people = {d["user"] for d in status["deciders"]} if status else set()
            if status and status["state"] == "approved" and len(people) < QUORUM:
                found.append(f"approved by {sorted(people)}, fewer than {QUORUM} people")
            problems += [f"shard {shard}: {problem}" for problem in found]
            shards[str(shard)] = status["state"] if status else None
        if problems:
            raise ValueError("; ".join(problems))
        return {
            "shards": shards,
            "approved": sorted(int(s) for s, state in shards.items() if state == "approved"),
        }

    @task
    def load_approved(consistency: dict[str, Any]) -> dict[str, int]:
        loaded = consistency["approved"]
        return {"shards": len(loaded), "rows": sum(len(shard_rows(s)) for s in loaded)}

    consistency = check_consistency()
    approve_shard >> consistency
    load_approved(consistency)


concurrent_testing()
