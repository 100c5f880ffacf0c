"""Minimizing approval latency: an approval answered by push beside one waited for by polling, each delay measured."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import (
    APPROVAL_ID_KEY,
    REQUESTED_AT_KEY,
    AirgateApprovalOperator,
    ApprovalStatusSensor,
    Delivery,
    RequestApprovalOperator,
    approval_status,
    deliveries_of,
)

#: How often the polling path asks the bridge. Not lower on Airflow 3.3.2: a rescheduled sensor whose previous
#: poke's executor event arrives after it was queued again is failed (see 120_07_02_blocking_antipattern).
POKE_SECONDS = 15
#: How long either path waits for people before the request's default (Reject) answers.
WAIT = timedelta(minutes=30)
#: The request each path asks: the wave it rolls out and the task that asks.
PATHS = {"push": ("eu", "push_approval"), "poll": ("us", "request_polled")}

DOC = f"""
# Minimizing approval latency

A rollout waits for a release manager twice, in two regions, asked two ways. `latency_report` measures each
path from Airflow's and the bridge's own timestamps, so the figures say where the time goes.

| path | task | how the decision reaches the pipeline |
|---|---|---|
| **push** | `push_approval` (`AirgateApprovalOperator`, Airflow's HITL) | the bridge answers Airflow's HITL endpoint (`PATCH .../hitlDetails`) the moment it decides; the task waits in `awaiting_input`, holding no worker slot, and Airflow's scheduler resumes it |
| **poll** | `request_polled` + `poll_approval` (`ApprovalStatusSensor`) | the sensor asks the bridge every {POKE_SECONDS} s (`mode="reschedule"`: the slot is free between pokes, each poke is a new task process) |

- **Fast notification delivery**: each request is registered with the bridge the moment it is written (the
  operator's notifier, or `RequestApprovalOperator` itself: `registered_by: push`), not when the bridge's
  reconcile loop would find it; the bridge tells the policy's approvers at once on every channel (the Messages
  inbox by being stored, email/Slack/Teams by the delivery worker it wakes). `notified_s` is, per channel,
  the seconds from the moment the bridge queued the request's messages (at registration) to the channel's
  first delivery, from the bridge's own delivery records (`GET /api/v1/signals/deliveries`).
- **Responsive approval interface**: the subject carries the figure that matters and the body the canary's
  table, so an approver decides from the message itself (one-click email links, Slack buttons, the inbox), and
  the bridge takes a vote in tens of milliseconds (docs/benchmarks.md, *Decision → downstream task start*:
  vote handling p50 59 ms). `decided_after_notice_s` is the people's part: first delivery → decision.
- **State update optimization**: on the push path the decision, its answer to Airflow and the task note are
  committed in one transaction and the bridge's effects worker is woken on commit (on PostgreSQL every replica,
  by `LISTEN/NOTIFY`), so Airflow is answered without any poll: `decision_to_answer_s`. A decision taken in the
  first seconds after the task parked waits until `HITL_SETTLE_MS` (10 s) after the park, because an earlier
  answer makes Airflow 3.3.2 fail the task (docs/airflow-hitl-readiness.md); a person reading the request
  decides later than that. Then Airflow's scheduler resumes the task on its next loop: `answer_to_resume_s`.
- **Polling vs push notifications**: `decision_to_resume_s` for both, decision (the bridge's `decided_at`) →
  the start of the next task (its `start_date`, as Airflow hands it to the task). Polling adds up to one poke
  interval and a task process per poke; push adds the scheduler's loop. README's *Benchmarks* and
  docs/benchmarks.md measure the push path through the bridge against Airflow's own endpoint: decision →
  downstream start p50 5.5 s and 5.0 s, nearly all of it the scheduler's resume.

Policy `minimize-latency` (in `bridge/examples/reference-dags.policies.yaml`): any one release manager
decides (no quorum to wait for), never the requester; a rejection needs a reason; both waits end after
30 minutes (Airflow's `response_timeout` and the policy's deadline).

## Try it
Trigger `120_09_01_minimize_latency` as alice; as bob open **Approvals** and approve both rollouts. Read
`latency_report`: per path the request's deliveries, the people's time and the system's, and which path
resumed first.
"""


def _seconds(start: datetime | str | None, end: datetime | str | None) -> float | None:
    """Seconds from ``start`` to ``end`` (instants or ISO 8601 text); None when either is unknown."""
    if start is None or end is None:
        return None
    start, end = (t if isinstance(t, datetime) else datetime.fromisoformat(t) for t in (start, end))
    return round((end - start).total_seconds(), 3)


def _notified(deliveries: list[Delivery]) -> dict[str, float | None]:
    """Channel -> seconds from the first message queued (the bridge's notice at registration) to its first delivery."""
    queued = min((d["created_at"] for d in deliveries), default=None)
    sent: dict[str, str] = {}
    for delivery in deliveries:
        at = delivery["sent_at"]
        if at is not None and (delivery["channel"] not in sent or at < sent[delivery["channel"]]):
            sent[delivery["channel"]] = at
    return {channel: _seconds(queued, at) for channel, at in sent.items()}


@dag(
    dag_id="120_09_01_minimize_latency",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "performance", "intermediate", "success"],
    params={"seed": Param(5, type="integer", description="Seed of the canary figures")},
)
def minimize_latency() -> None:
    @task
    def plan_rollout(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
        rng = random.Random(params["seed"])
        waves = {}
        for path, (region, _) in PATHS.items():
            hosts = [
                {
                    "host": f"{region}-{n:02}",
                    "errors": rng.randint(0, 40),
                    "requests": rng.randint(4_000, 9_000),
                }
                for n in range(rng.randint(6, 12))
            ]
            rate = sum(h["errors"] for h in hosts) / sum(h["requests"] for h in hosts)
            rows = "\n".join(f"| {h['host']} | {h['requests']:,} | {h['errors']} |" for h in hosts)
            waves[path] = {
                "subject": f"Roll out build 2.4.1 to {region} ({len(hosts)} hosts, canary errors {rate:.2%})?",
                "body": f"| host | requests | errors |\n|---|---|---|\n{rows}",
                "hosts": len(hosts),
            }
        return waves

    push_approval = AirgateApprovalOperator(
        task_id="push_approval",
        subject="{{ ti.xcom_pull(task_ids='plan_rollout')['push']['subject'] }}",
        body="{{ ti.xcom_pull(task_ids='plan_rollout')['push']['body'] }}",
        defaults="Reject",
        response_timeout=WAIT,
    )
    request_polled = RequestApprovalOperator(
        task_id="request_polled",
        subject="{{ ti.xcom_pull(task_ids='plan_rollout')['poll']['subject'] }}",
        body="{{ ti.xcom_pull(task_ids='plan_rollout')['poll']['body'] }}",
    )
    poll_approval = ApprovalStatusSensor(
        task_id="poll_approval",
        request_task_id="request_polled",
        mode="reschedule",
        poke_interval=POKE_SECONDS,
        timeout=WAIT.total_seconds(),
    )

    # A rejection skips it on both paths: the approval operator skips what follows, the sensor skips itself.
    @task
    def roll_out(waves: dict[str, dict[str, Any]], path: str, **context: Any) -> dict[str, Any]:
        # When the pipeline went on: Airflow's own start of this task, the end of the wait.
        return {"hosts": waves[path]["hosts"], "started_at": context["ti"].start_date.isoformat()}

    @task(trigger_rule="all_done")
    def latency_report(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        report: dict[str, Any] = {}
        for path, (_, asking) in PATHS.items():
            requested_at = ti.xcom_pull(task_ids=asking, key=REQUESTED_AT_KEY)
            status = approval_status(ti.dag_id, ti.run_id, asking)
            deliveries = deliveries_of(ti, asking)
            first_delivery = min((d["sent_at"] for d in deliveries if d["sent_at"]), default=None)
            rolled_out = ti.xcom_pull(task_ids=f"roll_out_{path}")
            decided_at = status["decided_at"] if status else None
            resumed_at = rolled_out["started_at"] if rolled_out else None
            # The external request returns its id; the HITL task keeps it only when its push registered it.
            pushed_id = ti.xcom_pull(
                task_ids=asking, key=APPROVAL_ID_KEY if path == "push" else "return_value"
            )
            figures: dict[str, Any] = {
                "approval_id": status["approval_id"] if status else None,
                "state": status["state"] if status else "unknown",
                "registered_by": ("push" if pushed_id else "reconcile") if status else None,
                "requested_at": requested_at,
                "decided_at": decided_at,
                "resumed_at": resumed_at,
                "notified_s": _notified(deliveries),
                "decided_after_notice_s": _seconds(first_delivery, decided_at),
                "decision_to_resume_s": _seconds(decided_at, resumed_at),
            }
            if path == "push":
                answer = ti.xcom_pull(task_ids=asking)
                answered_at = answer["responded_at"] if answer else None
                figures["decision_to_answer_s"] = _seconds(decided_at, answered_at)
                figures["answer_to_resume_s"] = _seconds(answered_at, resumed_at)
            else:
                figures["poke_interval_s"] = POKE_SECONDS
            report[path] = figures
        timed = {
            path: f["decision_to_resume_s"]
            for path, f in report.items()
            if f["decision_to_resume_s"] is not None
        }
        report["resumed_first"] = min(timed, key=timed.__getitem__) if len(timed) == len(PATHS) else None
        return report

    waves = plan_rollout()
    pushed = roll_out.override(task_id="roll_out_push")(waves, "push")
    polled = roll_out.override(task_id="roll_out_poll")(waves, "poll")
    waves >> push_approval >> pushed
    waves >> request_polled >> poll_approval >> polled
    [pushed, polled] >> latency_report()


minimize_latency()
