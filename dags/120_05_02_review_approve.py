"""Review and approve: the pipeline prepares what a reviewer needs, waits for their review, and acts on it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateBranchOperator

DOC = """
# Review and approve

A reviewer can only be as good as what they are shown. In this pattern the pipeline first **generates
review artifacts** — here a Markdown summary of a pricing change: a diff table, the largest movers, and the
checks that ran — and puts them in the body of the review request, so every channel (Approvals UI, Slack,
email) shows the same evidence.

1. `build_review_artifacts` computes the change from today's catalogue and the proposed `new_prices` (conf),
   runs the checks on those numbers and renders it all as Markdown (kept in XCom with the checks' findings, so
   the artifact the reviewer saw stays with the run). A failing check is shown, not hidden: the reviewer decides.
2. `review` waits for the human review (`AirgateBranchOperator`, at most 2 days, no worker slot). The
   reviewer picks **Approve** or **Request changes** and may write **feedback** in the form.
3. Airflow continues on the reviewer's choice: `publish_prices` on *Approve*, `send_back_for_changes`
   (which hands the feedback to the authors) on *Request changes*. Nobody answering in time counts as
   *Request changes*.
4. `record_review` captures the review — decision, feedback, when, and whether anyone answered at all —
   whatever the outcome. Who reviewed and why is in the `review` task note and the bridge's audit trail
   (Airflow itself records the bridge's service account as the responder).

Policy `review-approve` (in `bridge/examples/reference-dags.policies.yaml`): one reviewer from the `reviewers` group, never the
person who triggered the run.

## Try it
Trigger `120_05_02_review_approve` as alice (try `{"new_prices": {"pro": 11}}` to see both checks fail), then as bob open **Approvals**, read the artifact and choose
*Request changes* with feedback, or *Approve*. Look at `record_review`'s XCom.
"""


@dag(
    dag_id="120_05_02_review_approve",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "intermediate", "success"],
    params={
        "new_prices": Param(
            {"basic": 9.5, "pro": 32.0}, type="object", description="Proposed price per plan"
        ),
        "max_change_pct": Param(15, type="number", minimum=0, description="Largest change a plan may take"),
    },
)
def review_approve() -> None:
    @task
    def build_review_artifacts(params: dict[str, Any]) -> dict[str, Any]:
        # The catalogue under review: today's price and unit cost per plan, and the proposed prices (conf).
        catalogue = {"basic": (9.0, 4.1), "pro": (29.0, 12.5), "team": (99.0, 41.0)}
        proposed: dict[str, float] = {plan: float(price) for plan, price in params["new_prices"].items()}
        unknown = sorted(set(proposed) - set(catalogue))
        if unknown:
            raise ValueError(f"new_prices names plans that do not exist: {', '.join(unknown)}")
        changes = {plan: (old, proposed.get(plan, old), cost) for plan, (old, cost) in catalogue.items()}
        below_cost = [plan for plan, (_, new, cost) in changes.items() if new < cost]
        max_step = params["max_change_pct"]
        too_steep = [
            plan for plan, (old, new, _) in changes.items() if abs(100 * (new - old) / old) > max_step
        ]
        rows = "\n".join(
            f"| {plan} | {old:.2f} | {new:.2f} | {100 * (new - old) / old:+.1f}% | {100 * (new - cost) / new:.0f}% |"
            for plan, (old, new, cost) in changes.items()
        )

        def mark(failed: list[str]) -> str:
            return "✅ none" if not failed else "❌ " + ", ".join(failed)

        markdown = (
            "| plan | old | new | change | margin |\n|---|---|---|---|---|\n"
            f"{rows}\n\n"
            f"- priced below unit cost: {mark(below_cost)}\n"
            f"- changed by more than {max_step}%: {mark(too_steep)}"
        )
        return {
            "markdown": markdown,
            "changed_plans": [p for p, (o, n, _) in changes.items() if o != n],
            "checks": {"below_cost": below_cost, "too_steep": too_steep},
        }

    review = AirgateBranchOperator(
        task_id="review",
        subject="Review the price change of run {{ dag_run.run_id }}",
        body="{{ ti.xcom_pull(task_ids='build_review_artifacts')['markdown'] }}",
        options=["Approve", "Request changes"],
        options_mapping={"Approve": "publish_prices", "Request changes": "send_back_for_changes"},
        params={
            "feedback": Param("", type="string", description="What should change (or a note for the record)")
        },
        response_timeout=timedelta(days=2),
        defaults="Request changes",
    )

    @task
    def publish_prices(artifacts: dict[str, Any]) -> list[str]:
        return artifacts["changed_plans"]

    @task
    def send_back_for_changes(decision: dict[str, Any]) -> str:
        return decision["params_input"]["feedback"] or "(no feedback given)"

    @task(trigger_rule="none_failed_min_one_success")
    def record_review(decision: dict[str, Any]) -> dict[str, Any]:
        return {
            "decision": decision["chosen_options"][0],
            # No responder means nobody reviewed in time and Airflow's timeout chose the default.
            "timed_out": decision["responded_by_user"] is None,
            "feedback": decision["params_input"]["feedback"],
            "at": str(decision["responded_at"]),
        }

    artifacts = build_review_artifacts()
    artifacts >> review
    paths = [publish_prices(artifacts), send_back_for_changes(review.output)]
    review >> paths >> record_review(review.output)


review_approve()
