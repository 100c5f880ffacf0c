"""High-availability approvals: redundant notification paths, failover, and one approval's state held in two stores."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task
from airflow.sdk.exceptions import AirflowException

from airgate import (
    APPROVAL_ID_KEY,
    AirgateApprovalOperator,
    Delivery,
    approval_status,
    deliveries_of,
    disagreements,
)

DOC = """
# High-availability approval system

A payout run waits for finance. Nothing in the wait may depend on one process, one channel or one database
staying up: `verify_state` shows, from what both stores hold, that it did not.

- **Redundant notification paths**: every message is stored by the bridge (the **Messages** inbox and the
  Approvals page, delivery `messages`), and sent on the channels of policy `high-availability` in the
  channels file: Slack first, email as its `fallback` (`high-availability: {channels: [slack], fallback:
  email}`). A delivery that fails is retried with backoff (`delivery.max_attempts`, `backoff_ms`), then marked
  failed and handed to the fallback. `verify_state` lists, per approver, each path and how it ended
  (`notification_paths`) and every `failover` (from, to, attempts, the error), from
  `GET /api/v1/signals/deliveries`.
- **Database reliability**: the bridge commits a vote, the decision and its effects (answer Airflow's HITL
  request, write the task note) in one transaction, so a crash after the vote still answers Airflow: the
  effects worker retries until Airflow accepts, and a 409 whose stored answer matches counts as done. On
  PostgreSQL (`DATABASE_URL`, `npm run start:scale`: two replicas behind HAProxy) a vote locks its approval's
  row and effects, deliveries and timers are claimed with leases, so either replica may die mid-way
  (README, *The scale-out profile* and *The fault suite*).
- **Failover handling**: registration has two paths. The operator's notifier pushes the request at once; when
  the bridge is down it logs and lets the task park (retrying would hold a worker slot), and the bridge's
  reconcile loop registers it from Airflow's HITL requests once it is back. `registered_by` says which
  (`push` when the push's approval id is in the gate's `airgate_approval_id` XCom, else `reconcile`). The
  waiting task holds no process (`awaiting_input`), so a worker or scheduler restart loses nothing, and
  `verify_state` retries (exponential backoff) through a bridge restart or a replica failover.
- **State persistence**: the approval lives in the bridge's store and in Airflow's metadata database (the
  HITL request's answer, the gate's XCom). `verify_state` reads both and fails unless they agree
  (`airgate.disagreements`: the bridge final, the same option, a person named), and unless the approval the
  bridge holds is the one the push registered: a repeated registration of the same task try is answered with
  the approval already stored (`200`, same id), so push and reconcile never make two. Cleared or retried,
  `verify_state` finds the same approval again; clearing the gate itself is a new try, and the bridge closes
  the old approval (`cancelled`) and asks again.

Policy `high-availability` (in `bridge/examples/reference-dags.policies.yaml`): either of two finance
approvers (bob, carol: one away does not stop the run), never the requester; a rejection needs a reason;
reminded every 5 minutes on every path; unanswered after 10 minutes, the Airflow admins are added; after 30
minutes the bridge rejects, before Airflow's own one-hour timeout, so both stores always end with a decision.

## Try it
Trigger `120_09_02_high_availability` as alice; as bob approve in **Approvals** and read `verify_state`. With
the integration suite's channels file (`test/support/channels.yaml`), Slack fails for bob and carol and email
takes over: `failovers` lists both. Stop the bridge, trigger again, start it: the reconcile loop registers the
request (`registered_by: reconcile`).
"""


def notification_paths(deliveries: list[Delivery]) -> dict[str, dict[str, str]]:
    """Recipient -> channel -> how its last delivery on that channel ended (queued, sent, failed)."""
    paths: dict[str, dict[str, str]] = {}
    for delivery in deliveries:
        paths.setdefault(delivery["recipient"], {})[delivery["channel"]] = delivery["state"]
    return paths


def failovers(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    """Every delivery the policy's fallback channel took over: from which channel, after what."""
    by_id = {d["id"]: d for d in deliveries}
    return [
        {
            "recipient": d["recipient"],
            "from": failed["channel"],
            "to": d["channel"],
            "attempts": failed["attempts"],
            "error": failed["last_error"],
            "delivered": d["state"] == "sent",
        }
        for d in deliveries
        if d["fallback_of"] is not None and (failed := by_id.get(d["fallback_of"])) is not None
    ]


@dag(
    dag_id="120_09_02_high_availability",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "performance", "advanced", "success"],
    params={"seed": Param(11, type="integer", description="Seed of the generated payouts")},
)
def high_availability() -> None:
    @task
    def prepare_payout(params: dict[str, Any]) -> dict[str, Any]:
        rng = random.Random(params["seed"])
        payouts = [round(rng.uniform(40, 1_800), 2) for _ in range(rng.randint(5, 15))]
        return {"payouts": len(payouts), "total": round(sum(payouts), 2), "largest": max(payouts)}

    approve_payout = AirgateApprovalOperator(
        task_id="approve_payout",
        subject="Release {{ ti.xcom_pull(task_ids='prepare_payout')['payouts'] }} payouts, "
        "{{ ti.xcom_pull(task_ids='prepare_payout')['total'] }} EUR?",
        body="Largest payout: {{ ti.xcom_pull(task_ids='prepare_payout')['largest'] }} EUR.",
        defaults="Reject",
        response_timeout=timedelta(hours=1),
    )

    @task
    def release_payout(payout: dict[str, Any]) -> dict[str, Any]:
        return {"released": payout["payouts"], "total": payout["total"]}

    @task(
        trigger_rule="all_done",
        retries=4,
        retry_delay=timedelta(seconds=5),
        retry_exponential_backoff=2.0,
    )
    def verify_state(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        answer = ti.xcom_pull(task_ids="approve_payout")
        pushed_id = ti.xcom_pull(task_ids="approve_payout", key=APPROVAL_ID_KEY)
        # A bridge that cannot answer raises here, and the task's retries wait for it (or its other replica).
        status = approval_status(ti.dag_id, ti.run_id, "approve_payout")
        problems = disagreements(answer, status)
        if status and pushed_id and status["approval_id"] != pushed_id:
            problems.append(
                f"the bridge holds approval {status['approval_id']}, the push registered {pushed_id}"
            )
        if status is None or problems:
            raise AirflowException("Airflow and the bridge disagree: " + "; ".join(problems))
        deliveries = deliveries_of(ti, "approve_payout")
        return {
            "approval_id": status["approval_id"],
            "registered_by": "push" if pushed_id else "reconcile",
            "agreed": {"state": status["state"], "option": status["option"]},
            "deciders": [d["user"] for d in status["deciders"]],
            "verified_by_try": ti.try_number,
            "notification_paths": notification_paths(deliveries),
            "failovers": failovers(deliveries),
        }

    payout = prepare_payout()
    payout >> approve_payout >> release_payout(payout) >> verify_state()


high_availability()
