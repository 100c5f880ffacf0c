"""Scaling approval workflows: many approvals of one run wait at once, and the work they release is throttled."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowSkipException

from airgate import AirgateHITLOperator

#: Payments above this amount are reviewed first (a higher priority_weight in Airflow's queue).
URGENT_ABOVE = 5_000
#: At most this many approved batches are processed at the same time, however many are released at once.
PROCESSING_SLOTS = 2
#: The two queues: their tasks' priority_weight and how many minutes Airflow waits for each approval.
GROUPS = {"urgent": (10, 5), "routine": (1, 15)}


def request_of(batch: dict[str, Any]) -> dict[str, Any]:
    """What one batch's approval asks."""
    return {"subject": batch["subject"], "body": batch["body"]}


DOC = f"""
# Scaling approval workflows

One run can need many decisions: here, a payment run is split into supplier batches and each batch is
approved on its own.

- **High-volume approval handling**: `plan_batches` generates the run's payments (`requests` batches from
  `seed`, small data) and `approve_batch` is *mapped*, one approval per batch. On Airflow 3.3 each mapped
  instance parks in `awaiting_input`, which holds no worker slot and no pool slot, so a hundred waiting
  approvals cost what one does.
- **Parallel approval processing**: every batch is decided independently — approving one releases it while
  the others still wait; the bridge counts each approval's votes on its own row lock.
- **Queue management**: a batch holding a payment above {URGENT_ABOVE:,} is *urgent*. Urgent batches are
  approved by `approve_urgent`, routine ones by `approve_routine`: the urgent tasks carry a higher
  `priority_weight`, so when slots are short Airflow runs them (and the processing they release) first, and
  their policy gives reviewers 5 minutes instead of 15 before an unanswered batch is rejected.
- **Resource allocation**: `process_batch` runs at most {PROCESSING_SLOTS} at a time
  (`max_active_tis_per_dagrun`), however many approvals land at once: approvals scale out, the work they
  release does not overrun what it shares. A rejected batch is skipped, not processed.
- `capacity_report` sums up what was approved, rejected and paid, from the batches' own figures.

Policies `scaling-urgent` and `scaling-routine` (in `bridge/examples/reference-dags.policies.yaml`): one
finance approver per batch; a rejection needs a reason; unanswered batches are rejected after 5 (urgent) or
15 (routine) minutes.

## Try it
Trigger `120_09_03_scaling_approvals` as alice with `{{"requests": 6}}`; as bob open **Approvals**: six batch
approvals wait at once. Approve some, reject others with a reason, and read `capacity_report`.
"""


@dag(
    dag_id="120_09_03_scaling_approvals",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "performance", "intermediate", "success"],
    params={
        "requests": Param(6, type="integer", minimum=1, maximum=200, description="Batches to approve"),
        "seed": Param(3, type="integer", description="Seed of the generated payments"),
    },
)
def scaling_approvals() -> None:
    @task
    def plan_batches(params: dict[str, Any]) -> list[dict[str, Any]]:
        rng = random.Random(params["seed"])
        batches = []
        for n in range(params["requests"]):
            # Mostly routine payments; now and then one large enough to make its batch urgent.
            amounts = [
                round(rng.uniform(5_000, 9_000) if rng.random() < 0.15 else rng.uniform(50, 2_500), 2)
                for _ in range(rng.randint(3, 9))
            ]
            urgent = max(amounts) > URGENT_ABOVE
            batches.append(
                {
                    "subject": f"{'URGENT ' if urgent else ''}Pay supplier batch {n}: {sum(amounts):,.2f}",
                    "body": f"{len(amounts)} payments, largest {max(amounts):,.2f}, total {sum(amounts):,.2f}.",
                    "amounts": amounts,
                    "urgent": urgent,
                }
            )
        return batches

    @task
    def queue(batches: list[dict[str, Any]], urgent: bool) -> list[dict[str, Any]]:
        """The batches of one queue: the urgent or the routine ones."""
        return [b for b in batches if b["urgent"] == urgent]

    @task
    def process_batch(decided: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
        decision, batch = decided
        if decision["chosen_options"] != ["Approve"]:
            raise AirflowSkipException(f"batch rejected: {batch['subject']}")
        return {"payments": len(batch["amounts"]), "paid": round(sum(batch["amounts"]), 2)}

    batches = plan_batches()
    queues = {
        group: queue.override(task_id=f"{group}_queue")(batches, urgent=group == "urgent") for group in GROUPS
    }
    processed = []
    for group, (priority, minutes) in GROUPS.items():
        approvals = AirgateHITLOperator.partial(
            task_id=f"approve_{group}",
            options=["Approve", "Reject"],
            defaults=["Reject"],
            priority_weight=priority,
            response_timeout=timedelta(minutes=minutes),
        ).expand_kwargs(queues[group].map(request_of))
        # One instance per batch, with that batch's decision: zipped, since expanding over two lists would
        # process every batch under every decision.
        processed.append(
            process_batch.override(
                task_id=f"process_{group}",
                priority_weight=priority,
                max_active_tis_per_dagrun=PROCESSING_SLOTS,
            ).expand(decided=approvals.output.zip(queues[group]))
        )

    @task(trigger_rule="all_done")
    def capacity_report(
        urgent: list[dict[str, Any]], routine: list[dict[str, Any]], **context: Any
    ) -> dict[str, Any]:
        ti = context["ti"]
        report: dict[str, Any] = {"requested": 0, "approved": 0, "rejected": 0, "paid": 0.0}
        for group, batches in (("urgent", urgent), ("routine", routine)):
            decisions = (
                ti.xcom_pull(task_ids=f"approve_{group}", map_indexes=list(range(len(batches))))
                if batches
                else []
            )
            approved = [
                b for b, d in zip(batches, decisions, strict=True) if d and d["chosen_options"] == ["Approve"]
            ]
            report[group] = len(batches)
            report["requested"] += len(batches)
            report["approved"] += len(approved)
            report["rejected"] += len(batches) - len(approved)
            report["paid"] += sum(sum(b["amounts"]) for b in approved)
        report["paid"] = round(report["paid"], 2)
        return report

    processed >> capacity_report(queues["urgent"], queues["routine"])


scaling_approvals()
