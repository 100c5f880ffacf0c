"""Asset-based approval: the bridge publishes the decision as an Asset event, which schedules the dependent work."""

from __future__ import annotations

from typing import Any

from airflow.sdk import Asset, dag, task

from airgate import SIGNAL_KEY, ApprovalSignal, RequestApprovalOperator, asset_event

RELEASE_APPROVED = Asset(name="release_approved", uri="airgate://approvals/120_02_05_asset_approval/release")
RELEASE_DEPLOYED = Asset(name="release_deployed", uri="airgate://releases/deployed")

DOC = """
# Asset-based approval pattern

An approval can be **data**: an event on an Asset. Whatever depends on the approval is *scheduled* by it,
instead of waiting in a sensor. This DAG plays both parts (one DAG per file):

1. **Manual run: ask.** `request_approval` registers an external approval with the airgate bridge whose
   signal is an event on `release_approved` (`airgate://approvals/120_02_05_asset_approval/release`). The run
   ends at once: nothing waits.
2. **People decide** in the Approvals UI (or any channel). The bridge's effect worker publishes the asset event
   (`POST /api/v2/assets/events`, retried while Airflow is down, audited) with the decision in its
   `extra["airgate_approval"]`: approval id, state, option, who decided, why and when.
3. **Asset-triggered run: act.** The event schedules this DAG (`schedule=release_approved`).
   `read_approval_events` reads the metadata from `triggering_asset_events` (events that arrive together
   schedule one run); `deploy` runs only for approved releases, and records an event on `release_deployed`,
   which chains the next approval-dependent DAGs (schedule any DAG on it).

A rejection is an event too (state `rejected`): a run that only read rejections skips `deploy`.

## Try it
Trigger `120_02_05_asset_approval` as alice; approve as bob in **Approvals**. A second run, of type
*asset_triggered*, appears within seconds: its `read_approval_events` shows bob's decision and `deploy` emits
`release_deployed` (see **Assets**).
"""


@dag(
    dag_id="120_02_05_asset_approval",
    schedule=RELEASE_APPROVED,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
)
def asset_approval() -> None:
    @task.branch
    def ask_or_act(**context: Any) -> str:
        asked = context["dag_run"].run_type != "asset_triggered"
        return "request_approval" if asked else "read_approval_events"

    request = RequestApprovalOperator(
        task_id="request_approval",
        subject="Release {{ dag_run.run_id }} to production?",
        body="Approving publishes an event on `release_approved`, which schedules the deployment.",
        signals=[asset_event(RELEASE_APPROVED)],
    )

    @task
    def read_approval_events(**context: Any) -> list[ApprovalSignal]:
        # Events that arrive together schedule one run: each is one decision.
        events = context["triggering_asset_events"][RELEASE_APPROVED]
        return [event.extra[SIGNAL_KEY] for event in events]

    @task.short_circuit
    def any_approved(signals: list[ApprovalSignal]) -> bool:
        return any(signal["state"] == "approved" for signal in signals)

    @task(outlets=[RELEASE_DEPLOYED])
    def deploy(signals: list[ApprovalSignal]) -> list[str]:
        return [
            f"deployed after approval {signal['approval_id']} by {signal['deciders'][-1]['user']}"
            for signal in signals
            if signal["state"] == "approved"
        ]

    signals = read_approval_events()
    ask_or_act() >> [request, signals]
    any_approved(signals) >> deploy(signals)


asset_approval()
