"""Approval metrics and monitoring: latency and SLA measured from real approvals, pending alerts, a dashboard built from the bridge's metrics."""

from __future__ import annotations

import json
import os
import random
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Param, PokeReturnValue, dag, task
from airflow.sdk.exceptions import AirflowFailException
from airflow.sdk.timezone import utcnow

from airgate import (
    REQUESTED_AT_KEY,
    AirgateHITLOperator,
    approval_status,
    bridge_metrics,
    count_outcome,
    gate_passage,
    grafana_dashboard,
    latency_summary,
    sla_outcome,
    workspace,
)

#: Kinds of change the generated requests are about.
KINDS = ("schema migration", "feature flag", "index rebuild", "quota change", "certificate rotation")

DOC = """
# Approval metrics and monitoring

A run asks for `changes` change reviews at once (`review_change`, mapped) and watches them like an operator's
monitoring would. Policy `metrics-monitoring` (in `bridge/examples/reference-dags.policies.yaml`): one reviewer
(alice, bob or carol, never the requester), a rejection needs a reason, and the **SLA** is its deadline: 30 s,
warned 10 s before (an `sla_warning` message), after which the bridge rejects the review itself (`expired`).

- **Pending approval alerts**: `watch_pending` runs beside the reviews, a sensor in reschedule mode (no worker
  slot between pokes; every 10 s, since a busy scheduler fails faster reschedules, see 120_06_02), and reads the
  bridge each poke (the service token's `GET /api/v1/signals/approvals`, one per review, and each review's request
  time). It raises the alert — it fails, which is what Airflow's failure callbacks and e-mails page on — when a
  review has waited longer than `alert_after_s`, when more than `max_pending` wait at once, or when one is still
  pending past its SLA. The failed task names the reviews in its `alerts` XCom, and the run ends failed.
- **Approval latency tracking**: `measure_reviews` takes each review's request time (`airgate_requested_at`) and
  measures two waits: until people decided (the bridge's `decided_at`) and until the task resumed (Airflow's
  `responded_at`: `airgate.gate_passage`, counted as the timer `airgate.gate.review_change.wait`); the gap is the
  bridge answering Airflow. Of the people's decisions it computes p50/p90/p99/max of each
  (`airgate.latency_summary`, nearest rank like the bridge's `GET /api/v1/stats`).
- **SLA monitoring**: each review measured against its deadline (`airgate.sla_outcome`: met, breached or
  pending, with the margin); compliance is met / (met + breached). Outcomes are counted in Airflow's metrics
  (`airgate.approval.<state>`, tagged with the DAG).
- **Dashboard creation**: `build_dashboard` scrapes the bridge's `GET /metrics` (Prometheus) and writes a
  Grafana dashboard with one panel per airgate metric the scrape contains (`airgate.grafana_dashboard`:
  pending approvals, decisions and votes as rates, effects, bypasses) to
  `$AIRFLOW_HOME/airgate-dashboards/airgate-approvals.json`, beside the run's summary in Markdown (its XCom).
  Across every DAG, the **Dashboard** page of airgate's UI shows the bridge's own figures (`GET /api/v1/stats`:
  pending, median and p90 latency by day, SLA met/breached/warned/escalated per DAG).

## Try it
Trigger `120_09_05_metrics_monitoring` as alice; as bob approve or reject (with a reason) each review in
**Approvals** within 30 s and read `build_dashboard`'s summary. Trigger it again with `{"alert_after_s": 5}` and
leave one review alone: `watch_pending` fails with the alert, the review expires at its SLA, and the summary
counts the breach. Import the JSON file into Grafana against the Prometheus that scrapes the bridge.
"""


def _moment(value: datetime | str) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


@dag(
    dag_id="120_09_05_metrics_monitoring",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "performance", "intermediate", "success"],
    params={
        "changes": Param(3, type="integer", minimum=1, maximum=50, description="Change reviews to ask for"),
        "seed": Param(9, type="integer", description="Seed of the generated changes"),
        "alert_after_s": Param(20, type="integer", minimum=0, description="Alert on a review waiting longer"),
        "max_pending": Param(
            10, type="integer", minimum=0, description="Alert when more reviews wait at once"
        ),
    },
)
def metrics_monitoring() -> None:
    @task
    def plan_reviews(params: dict[str, Any]) -> list[dict[str, str]]:
        rng = random.Random(params["seed"])
        reviews = []
        for n in range(params["changes"]):
            kind, hosts = rng.choice(KINDS), rng.randint(1, 40)
            reviews.append(
                {"subject": f"Change {n}: {kind} on {hosts} hosts", "body": f"Risk {rng.randint(1, 5)} of 5."}
            )
        return reviews

    reviews = plan_reviews()
    review_change = AirgateHITLOperator.partial(
        task_id="review_change",
        options=["Approve", "Reject"],
        defaults=["Reject"],
        response_timeout=timedelta(minutes=10),
    ).expand_kwargs(reviews)

    @task.sensor(poke_interval=10, timeout=900, mode="reschedule")
    def watch_pending(
        reviews: list[dict[str, str]], params: dict[str, Any], **context: Any
    ) -> PokeReturnValue:
        ti, now = context["ti"], utcnow()
        pending, settled = [], 0
        for review in range(len(reviews)):
            status = approval_status(ti.dag_id, ti.run_id, "review_change", map_index=review)
            if status is None:
                continue  # not asked yet
            if status["state"] != "pending":
                settled += 1
                continue
            asked = ti.xcom_pull(task_ids="review_change", map_indexes=review, key=REQUESTED_AT_KEY)
            waited = (now - _moment(asked)).total_seconds() if asked else 0.0
            due = status["due_at"]
            pending.append(
                {"review": review, "waited_s": waited, "past_sla": bool(due and now > _moment(due))}
            )
        alerts = [
            {
                "review": p["review"],
                "alert": "sla_breached" if p["past_sla"] else "waiting",
                "waited_s": round(p["waited_s"], 1),
            }
            for p in pending
            if p["past_sla"] or p["waited_s"] > params["alert_after_s"]
        ]
        if len(pending) > params["max_pending"]:
            alerts.append({"review": None, "alert": "backlog", "pending": len(pending)})
        if alerts:
            ti.xcom_push(key="alerts", value=alerts)
            for alert in alerts:
                count_outcome("alert", alert["alert"], ti.dag_id)
            raise AirflowFailException(f"approval alert: {alerts}")
        return PokeReturnValue(is_done=settled == len(reviews), xcom_value={"settled": settled, "alerts": []})

    @task(trigger_rule="all_done")
    def measure_reviews(reviews: list[dict[str, str]], **context: Any) -> dict[str, Any]:
        ti = context["ti"]
        measured = []
        for review in range(len(reviews)):
            status = approval_status(ti.dag_id, ti.run_id, "review_change", map_index=review)
            asked = ti.xcom_pull(task_ids="review_change", map_indexes=review, key=REQUESTED_AT_KEY)
            passage = gate_passage(
                "review_change", ti.xcom_pull(task_ids="review_change", map_indexes=review), asked, status
            )
            sla = sla_outcome("review_change", status)
            state = status["state"] if status else "unknown"
            decided = status["decided_at"] if status else None
            count_outcome("approval", state, ti.dag_id)
            measured.append(
                {
                    "review": review,
                    "state": state,
                    # Asked to decided (the bridge's record), and asked to resumed (Airflow's): the gap is the bridge
                    # answering Airflow.
                    "decided_s": (_moment(decided) - _moment(asked)).total_seconds()
                    if decided and asked
                    else None,
                    "resumed_s": passage["waited_seconds"],
                    "sla": sla["sla"],
                    "margin_s": sla["margin_seconds"],
                }
            )
        by_people = [m for m in measured if m["state"] in ("approved", "rejected")]
        met, breached = (sum(m["sla"] == outcome for m in measured) for outcome in ("met", "breached"))
        return {
            "reviews": measured,
            "latency": {
                what: latency_summary(m[f"{what}_s"] for m in by_people if m[f"{what}_s"] is not None)
                for what in ("decided", "resumed")
            },
            "sla": {
                "met": met,
                "breached": breached,
                "pending": sum(m["sla"] == "pending" for m in measured),
                "compliance": round(met / (met + breached), 4) if met + breached else None,
            },
        }

    @task
    def build_dashboard(figures: dict[str, Any], run_id: str) -> dict[str, Any]:
        families = bridge_metrics()
        dashboard = grafana_dashboard(families, title="airgate approvals", uid="airgate-approvals")
        path = workspace("dashboards") / "airgate-approvals.json"
        draft = path.with_suffix(f".{os.getpid()}.tmp")
        draft.write_text(json.dumps(dashboard, indent=2))
        draft.replace(path)  # concurrent runs never leave a half-written dashboard
        gauge = families.get("airgate_approvals_pending")
        pending_now = sum(s["value"] for s in gauge["samples"]) if gauge else None
        sla = figures["sla"]
        rows = "\n".join(
            f"| {m['review']} | {m['state']} | {m['decided_s']} | {m['resumed_s']} | {m['sla']} |"
            for m in figures["reviews"]
        )
        latency = "\n".join(
            f"| {what} | {f['count']} | {f['p50_s']} | {f['p90_s']} | {f['p99_s']} | {f['max_s']} |"
            for what, f in figures["latency"].items()
        )
        summary = (
            f"### Reviews of {run_id}\n\n| review | state | decided after (s) | resumed after (s) | SLA |\n"
            f"|---|---|---|---|---|\n{rows}\n\n"
            "Latency of people's decisions (s):\n\n| from request to | count | p50 | p90 | p99 | max |\n"
            f"|---|---|---|---|---|---|\n{latency}\n\n"
            f"SLA: {sla['met']} met, {sla['breached']} breached, compliance {sla['compliance']}.\n\n"
            f"Bridge now: {pending_now} approvals pending; dashboard with {len(dashboard['panels'])} panels."
        )
        return {
            "dashboard": str(path),
            "panels": [panel["title"] for panel in dashboard["panels"]],
            "bridge_pending": pending_now,
            "summary": summary,
        }

    watch_pending(reviews)
    figures = measure_reviews(reviews)
    review_change >> figures
    build_dashboard(figures, run_id="{{ run_id }}")


metrics_monitoring()
