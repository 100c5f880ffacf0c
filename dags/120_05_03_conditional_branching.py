"""Conditional approval branching: the change's type decides whether people are asked; their answer picks the path."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateBranchOperator, count_outcome

DOC = """
# Conditional approval branching

Not every change needs the same approval, and "no" is not the only alternative to "yes".

**By approval type.** `classify_change` decides the type from the change itself (conf `settings`, the
values to deploy), never from a label the person triggering the run chooses: a change is *standard*
(pre-approved, ITIL-style; straight to `auto_approve`) only when every setting it touches is in the
pre-approved catalogue `STANDARD_CHANGES` (feature flags, set to true or false); anything else is *normal* and
goes to `decide`, where people choose. Since `deploy` deploys exactly the classified settings, there is no
way to have one change classified and another deployed.

**Approve / reject / defer.** `decide` is an `AirgateBranchOperator` whose three options each lead somewhere:

| option | task | what it does |
|---|---|---|
| Approve | `deploy` | deploys, then `verify_deploy` checks it |
| Reject | `close_change` | closes the change with the decision |
| Defer | `reschedule_change` | keeps the change and proposes the next window |

An unanswered request is deferred after 24 hours (`defaults`), never silently approved.

**Conditional downstream.** `deploy` runs after an approval *or* a pre-approval (`none_failed_min_one_success`):
it applies the settings to the current configuration and writes the release. `verify_deploy` runs only when a
deploy happened: it reads the release back and checks it (what was written is what was approved; every value
within its limits, e.g. `pool.max_connections` 1 to 100), and fails the run naming each failed check, so an
approved but unhealthy change does not pass as deployed. The other paths are skipped.

**Tracking branch outcomes.** `track_outcome` records which path the run took (and whether the timeout
chose it) and counts it in Airflow's metrics (`airgate.branch.<outcome>`, tagged with the DAG id); who chose it and why
is in the `decide` task note and the bridge's audit trail.

Policy `conditional-branching`: one release manager decides; a rejection needs a reason.

## Try it
Trigger `120_05_03_conditional_branching` with conf `{"settings": {"pool.max_connections": 40}}` and, as bob,
choose *Approve*, *Reject* (with a reason) or *Defer* in **Approvals**. With
`{"settings": {"feature_flags.checkout_v2": true}}` nobody is asked. `{"settings": {"pool.max_connections": 500}}`
approved fails in `verify_deploy`.
"""


# The service's configuration before this change, and where releases are written for verify_deploy to read.
CURRENT_CONFIG: dict[str, Any] = {
    "feature_flags.checkout_v2": False,
    "pool.max_connections": 20,
    "pool.timeout_s": 30,
}
RELEASES = Path(tempfile.gettempdir()) / "airgate-120_05_03" / "releases"
# Pre-approved standard changes: which settings, and which values for them, need nobody's approval.
STANDARD_CHANGES: dict[str, Callable[[Any], bool]] = {
    "feature_flags.checkout_v2": lambda value: isinstance(value, bool)
}
LIMITS: dict[str, Callable[[Any], bool]] = {
    "pool.max_connections": lambda v: isinstance(v, int) and 1 <= v <= 100,
    "pool.timeout_s": lambda v: isinstance(v, int) and 1 <= v <= 120,
}


@dag(
    dag_id="120_05_03_conditional_branching",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
    params={
        "settings": Param(
            {"pool.max_connections": 40}, type="object", minProperties=1, description="The settings to deploy"
        )
    },
)
def conditional_branching() -> None:
    @task.branch
    def classify_change(params: dict[str, Any]) -> str:
        settings: dict[str, Any] = params["settings"]
        if unknown := sorted(set(settings) - set(CURRENT_CONFIG)):
            raise ValueError(f"settings: unknown keys {', '.join(unknown)}")
        standard = all(STANDARD_CHANGES.get(key, lambda _: False)(value) for key, value in settings.items())
        return "auto_approve" if standard else "decide"

    @task
    def auto_approve() -> str:
        return "standard change: pre-approved"

    decide = AirgateBranchOperator(
        task_id="decide",
        subject="Deploy change {{ dag_run.run_id }}?",
        body="A **normal** change: approve to deploy now, reject to close it, defer to the next window.",
        options=["Approve", "Reject", "Defer"],
        options_mapping={"Approve": "deploy", "Reject": "close_change", "Defer": "reschedule_change"},
        response_timeout=timedelta(hours=24),
        defaults="Defer",
    )

    @task(trigger_rule="none_failed_min_one_success")
    def deploy(params: dict[str, Any], run_id: str) -> str:
        release = {**CURRENT_CONFIG, **params["settings"]}
        path = RELEASES / f"{run_id.replace(':', '_').replace('+', '_')}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(release, sort_keys=True))
        return str(path)

    @task
    def verify_deploy(release_path: str, params: dict[str, Any]) -> dict[str, Any]:
        deployed = json.loads(Path(release_path).read_text())
        failed = [
            f"{key}: deployed {deployed.get(key)!r}, approved {value!r}"
            for key, value in params["settings"].items()
            if deployed.get(key) != value
        ]
        failed += [
            f"{key}={deployed[key]!r} is outside its limits"
            for key, ok in LIMITS.items()
            if not ok(deployed[key])
        ]
        if failed:
            raise ValueError("unhealthy release: " + "; ".join(failed))
        return {"healthy": True, "checked": sorted({*params["settings"], *LIMITS})}

    @task
    def close_change(decision: dict[str, Any]) -> str:
        return f"closed: rejected at {decision['responded_at']:%Y-%m-%d %H:%M} UTC"

    @task
    def reschedule_change(decision: dict[str, Any]) -> str:
        return f"deferred to {(decision['responded_at'] + timedelta(days=7)).date()}"

    @task(trigger_rule="none_failed_min_one_success")
    def track_outcome(**context: Any) -> dict[str, Any]:
        ti = context["ti"]
        decision = ti.xcom_pull(task_ids="decide")
        outcome = decision["chosen_options"][0].lower() if decision else "pre_approved"
        count_outcome("branch", outcome, dag_id=ti.dag_id)
        return {"outcome": outcome, "timed_out": bool(decision) and decision["responded_by_user"] is None}

    auto = auto_approve()
    deployed = deploy()
    verified = verify_deploy(deployed)
    classify_change() >> [auto, decide]
    [auto, decide] >> deployed >> verified
    paths = [close_change(decide.output), reschedule_change(decide.output)]
    [verified, *paths] >> track_outcome()


conditional_branching()
