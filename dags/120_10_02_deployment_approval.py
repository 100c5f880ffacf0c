"""Deployment approval workflow: the change is reviewed, approved, rolled out in health-checked stages; emergencies break the glass."""

from __future__ import annotations

import copy
import math
import random
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, chain, dag, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from airgate import AirgateApprovalOperator, count_outcome, decision_record_of

SERVICES = ["api", "checkout", "payments", "search", "web"]
#: The rollout, in order: each stage's name and the share of production traffic the new release then serves.
STAGES = [("canary", 5), ("partial", 50), ("full", 100)]
#: What a stage's traffic must show for the rollout to go on.
HEALTH_LIMITS = {"error_rate": 0.02, "p95_ms": 300.0}
#: Requests production serves during one stage's watch window; a stage observes its share (at least 200).
WINDOW_REQUESTS = 4000
#: The running release's error rate and median latency: what the new release adds to them is its regression.
BASE_ERROR_RATE = 0.004
MEDIAN_MS = 120.0

DOC = f"""
# Deployment approval workflow

A release of five services goes to production only after people have seen **what changes**, and only as far
as its **health** allows.

1. `plan_release` builds the running release's manifest and the proposed one (image tag and config keys per
   service, generated from `seed` so the demo needs no cluster).
2. **Change review**: `review_change` diffs them — services whose image tag changes, config keys changed,
   added or removed — and renders the diff as Markdown, with the rollout plan and its health limits.
3. **Pre-deployment approval**: `approve_deployment` (`AirgateApprovalOperator`, at most 2 hours; unanswered
   counts as *Reject*) shows that diff. Policy `deployment-approval`: a change manager reviews the change, then a
   release manager approves the deployment; the requester decides neither, and a rejection needs a reason.
4. **Staged deployment**: `deploy_canary` ({STAGES[0][1]}% of traffic) → `deploy_partial` ({STAGES[1][1]}%) →
   `deploy_full` ({STAGES[2][1]}%). Each stage measures the traffic the new release served in its window
   (error rate and p95 latency of simulated requests, seeded; conf `regression` adds errors that grow with the
   release's share of traffic, a capacity problem a canary barely sees) against `HEALTH_LIMITS`
   (errors ≤ {HEALTH_LIMITS["error_rate"]:.0%}, p95 ≤ {HEALTH_LIMITS["p95_ms"]:.0f} ms). A stage outside them
   **fails**, the later stages never run, and `roll_back_release` puts the running release back on all traffic.
   The run still succeeds — stopping and rolling back is the workflow doing its job — while the failed stage
   stays red in the grid and the record says `rolled_back`.
5. `record_deployment` records, whatever happened, the release's outcome (`deployed`, `rolled_back`, `held`),
   who approved it, each stage's figures, and whether the approval was **bypassed**.

## Emergency bypass (break-glass, through the bridge)
A hotfix during an incident cannot wait for two people. Trigger with conf `{{"emergency": true, "incident":
"INC-4711"}}` (an emergency must name its incident): the approval still asks, its subject says EMERGENCY and the
incident, and the bridge selects policy `deployment-emergency`, which adds `break_glass`: the on-call engineer
(group `on-call`) may decide at once with a required reason (**Break glass** in **Approvals**, or
`POST /api/v1/approvals/{{id}}/bypass`). The bridge answers Airflow with *Approve*, records the approval as
`bypassed` (who, why, when: task note and audit) and opens an after-the-fact **review** (`approve_deployment@review`,
Confirm / Dispute) for the change managers, which the bypasser may not decide. Anyone else is refused (403,
audited), and a routine deployment's policy allows no bypass at all. The conf flag itself skips nothing: the
bypass skips the people, never the health checks — `record_deployment` reads from the bridge's record that
the glass was broken, by whom, why, and for which incident.

## Try it
Trigger `120_10_02_deployment_approval` as alice; in **Approvals** read the diff, approve as bob (change review)
and as carol (release manager): three stages pass. Trigger with `{{"regression": 0.1}}` and approve: the canary
passes, `deploy_partial` fails its health check and `roll_back_release` restores the running release. Trigger
with `{{"emergency": true, "incident": "INC-4711"}}` and, as carol, break the glass with a reason: the rollout
starts at once, and bob finds the review of the bypass in **Approvals**.
"""


def _bump(tag: str, rng: random.Random) -> str:
    major, minor, patch = (int(part) for part in tag.split("."))
    return f"{major}.{minor + 1}.0" if rng.random() < 0.4 else f"{major}.{minor}.{patch + 1}"


def _traffic(stage: str, percent: int, params: dict[str, Any]) -> dict[str, Any]:
    """The new release's requests in one stage's window: error rate and p95 latency, seeded per stage."""
    rng = random.Random(f"{params['seed']}-{stage}")
    requests = max(200, WINDOW_REQUESTS * percent // 100)
    error_rate = BASE_ERROR_RATE + params["regression"] * percent / 100
    errors = sum(rng.random() < error_rate for _ in range(requests))
    latencies = sorted(rng.lognormvariate(math.log(MEDIAN_MS), 0.35) for _ in range(requests))
    return {
        "requests": requests,
        "error_rate": round(errors / requests, 4),
        "p95_ms": round(latencies[math.ceil(0.95 * requests) - 1], 1),
    }


@dag(
    dag_id="120_10_02_deployment_approval",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "real-world", "intermediate", "success"],
    params={
        "seed": Param(7, type="integer", description="Seed of the manifests and the simulated traffic"),
        "regression": Param(
            0.0,
            type="number",
            minimum=0,
            maximum=1,
            description="Extra error rate of the new release at full traffic (grows with its share)",
        ),
        "emergency": Param(
            False, type="boolean", description="A hotfix during an incident: break-glass allowed"
        ),
        "incident": Param("", type="string", description="The incident an emergency deployment fixes"),
    },
)
def deployment_approval() -> None:
    @task
    def plan_release(params: dict[str, Any]) -> dict[str, Any]:
        if params["emergency"] and not params["incident"].strip():
            raise AirflowFailException("an emergency deployment names its incident (conf `incident`)")
        rng = random.Random(params["seed"])
        number = rng.randint(100, 900)
        running = {
            "release": f"r{number}",
            "services": {
                service: {
                    "image": f"{service}:{rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
                    "config": {
                        f"{service.upper()}_TIMEOUT_MS": rng.choice([500, 1000, 2000]),
                        f"{service.upper()}_POOL_SIZE": rng.choice([8, 16, 32]),
                        "LOG_LEVEL": "info",
                    },
                }
                for service in SERVICES
            },
        }
        proposed = copy.deepcopy(running)
        proposed["release"] = f"r{number + 1}"
        for service in rng.sample(SERVICES, rng.randint(2, 4)):
            spec = proposed["services"][service]
            name, tag = spec["image"].split(":")
            spec["image"] = f"{name}:{_bump(tag, rng)}"
            config = spec["config"]
            if rng.random() < 0.6:
                config[f"{service.upper()}_TIMEOUT_MS"] *= 2
            if rng.random() < 0.4:
                config[f"{service.upper()}_FEATURE_{rng.choice(['BATCHING', 'CACHE', 'RETRY'])}"] = True
            if rng.random() < 0.3:
                del config["LOG_LEVEL"]
        return {"running": running, "proposed": proposed}

    @task
    def review_change(plan: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        running, proposed = plan["running"], plan["proposed"]
        changes = []
        for service in SERVICES:
            before, after = running["services"][service], proposed["services"][service]
            keys = sorted(before["config"].keys() | after["config"].keys())
            config = [
                {"key": key, "from": before["config"].get(key), "to": after["config"].get(key)}
                for key in keys
                if before["config"].get(key) != after["config"].get(key)
            ]
            image = [before["image"].split(":")[1], after["image"].split(":")[1]]
            if image[0] != image[1] or config:
                changes.append({"service": service, "image": image, "config": config})

        def shown(change: dict[str, Any]) -> str:
            if change["from"] is None:
                return f"added `{change['key']}` = {change['to']}"
            if change["to"] is None:
                return f"removed `{change['key']}`"
            return f"`{change['key']}` {change['from']} → {change['to']}"

        rows = "\n".join(
            f"| {c['service']} | `{c['image'][0]}` → `{c['image'][1]}` | "
            f"{'; '.join(shown(k) for k in c['config']) or 'unchanged'} |"
            for c in changes
        )
        emergency = (
            f"🚨 **Emergency for incident {params['incident']}**: the on-call engineer may break the glass; "
            "the change managers review the bypass afterwards.\n\n"
            if params["emergency"]
            else ""
        )
        rollout = " → ".join(f"{stage} {percent}%" for stage, percent in STAGES)
        markdown = (
            f"{emergency}**{running['release']} → {proposed['release']}**: {len(changes)} of {len(SERVICES)} "
            f"services change, {sum(len(c['config']) for c in changes)} config keys.\n\n"
            "| service | image tag | config |\n|---|---|---|\n"
            f"{rows}\n\n"
            f"Rollout once approved: {rollout}. Each stage must keep errors ≤ {HEALTH_LIMITS['error_rate']:.1%} "
            f"and p95 latency ≤ {HEALTH_LIMITS['p95_ms']:.0f} ms, or {running['release']} is restored."
        )
        prefix = f"EMERGENCY {params['incident']}: " if params["emergency"] else ""
        return {
            "subject": f"{prefix}Deploy {proposed['release']} to production?",
            "changes": changes,
            "markdown": markdown,
        }

    approve_deployment = AirgateApprovalOperator(
        task_id="approve_deployment",
        subject="{{ ti.xcom_pull(task_ids='review_change')['subject'] }}",
        body="{{ ti.xcom_pull(task_ids='review_change')['markdown'] }}",
        response_timeout=timedelta(hours=2),
        defaults="Reject",
    )

    # A failed health check is the answer, not a glitch: retrying would only move more traffic to a bad release.
    @task(retries=0)
    def deploy_stage(stage: str, percent: int, plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        health = {
            "stage": stage,
            "traffic_percent": percent,
            "release": plan["proposed"]["release"],
            **_traffic(stage, percent, context["params"]),
        }
        health["failed"] = [name for name, limit in HEALTH_LIMITS.items() if health[name] > limit]
        if health["failed"]:
            # A failed task pushes no return value: keep the figures for the rollback and the record.
            context["ti"].xcom_push(key="return_value", value=health)
            raise AirflowFailException(f"{stage} at {percent}% outside {HEALTH_LIMITS}: {health}")
        return health

    @task(trigger_rule="one_failed")
    def roll_back_release(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        ti = context["ti"]
        measured = [ti.xcom_pull(task_ids=f"deploy_{stage}") for stage, _ in STAGES]
        failed = next((health for health in measured if health and health["failed"]), None)
        if failed is None:
            raise AirflowSkipException("no stage failed its health check: nothing was deployed to roll back")
        running = plan["running"]
        return {
            "restored_release": running["release"],
            "restored_images": {service: spec["image"] for service, spec in running["services"].items()},
            "failed_stage": failed["stage"],
            "traffic_moved_back_percent": failed["traffic_percent"],
        }

    @task(trigger_rule="all_done")
    def record_deployment(plan: dict[str, Any], **context: Any) -> dict[str, Any]:
        ti, params = context["ti"], context["params"]
        record = decision_record_of(ti, "approve_deployment")
        glass = next((d for d in record["deciders"] if d["channel"] == "break_glass"), None)
        stages = [health for stage, _ in STAGES if (health := ti.xcom_pull(task_ids=f"deploy_{stage}"))]
        rollback = ti.xcom_pull(task_ids="roll_back_release")
        if record["option"] != "Approve":
            outcome = "held"
        elif rollback:
            outcome = "rolled_back"
        else:
            outcome = "deployed"
        count_outcome("deployment", outcome, dag_id=ti.dag_id)
        return {
            "release": plan["proposed"]["release"],
            "outcome": outcome,
            "live_release": plan["proposed" if outcome == "deployed" else "running"]["release"],
            "approval_state": record["state"],
            "approved_by": [
                d["user"] for d in record["deciders"] if d["option"] == "Approve" and d is not glass
            ],
            "bypassed": record["state"] == "bypassed",
            "bypassed_by": glass["user"] if glass else None,
            "bypass_reason": glass["reason"] if glass else None,
            "incident": params["incident"] if params["emergency"] else None,
            "stages": stages,
            "failed_stage": rollback["failed_stage"] if rollback else None,
        }

    plan = plan_release()
    change = review_change(plan)
    stages = [
        deploy_stage.override(task_id=f"deploy_{stage}")(stage, percent, plan) for stage, percent in STAGES
    ]
    chain(change, approve_deployment, *stages)
    rollback = roll_back_release(plan)
    stages >> rollback
    [stages[-1], rollback] >> record_deployment(plan)


deployment_approval()
