"""Custom UI extensions: a release decision with custom buttons and a form, shown in airgate's views in Airflow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateHITLOperator

DOC = """
# Custom UI extensions

Airflow 3 lets a plugin add its own pages to the UI. The airgate plugin (`airgate.plugins.approvals.AirgatePlugin`,
installed with the `airgate` package) adds:
- `react_apps`: **Approvals** in the navigation (the inbox of everything waiting for you), an **Approval** tab
  on every task instance (this request, its votes, its audit trail), the **Run actions** / **Task actions**
  tabs, **Audit** and **Messages** under *Browse* and a dashboard panel: one React bundle that wears
  Airflow's own theme, light or dark;
- `fastapi_apps`: `/airgate/...`, which serves the bundle and forwards the signed-in user's calls to the
  bridge with their own Airflow token, checked by Airflow first — no second login, no identity in a header.

## Custom approval views and forms
This DAG's `release_decision` is an `AirgateHITLOperator`: any options, any form. Its **body** is Markdown
(the release notes table below) and its **params** are Airflow Params, which airgate's views render as a
form: a number with limits (`canary_percent`), a boolean (`announce`), a choice (`audience`) and free text
(`release_note`). The bridge validates the input against the same schema before anything reaches Airflow.

## Custom action buttons
The options are the buttons people see: **Ship**, **Ship to canary**, **Hold**. The operator does not branch;
the decision — `{chosen_options, params_input, responded_by_user, responded_at}` — is its XCom, and
`act_on_decision` turns the button and the form into what happens next. An unanswered request is held
after 4 hours.

## Try it
Trigger `120_04_05_custom_ui`, open **Approvals** in Airflow's navigation (or the task's **Approval** tab),
fill the form and press *Ship to canary*. `act_on_decision` returns the rollout it would start.
"""


@dag(
    dag_id="120_04_05_custom_ui",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
)
def custom_ui() -> None:
    @task
    def prepare_release_notes() -> str:
        return "| change | risk |\n|---|---|\n| faster checkout | low |\n| new tax rules | medium |"

    release_decision = AirgateHITLOperator(
        task_id="release_decision",
        subject="Release 3.8 of the shop: how should it go out?",
        body="{{ ti.xcom_pull(task_ids='prepare_release_notes') }}",
        options=["Ship", "Ship to canary", "Hold"],
        params={
            "canary_percent": Param(5, type="integer", minimum=1, maximum=50, description="Canary only"),
            "announce": Param(True, type="boolean", description="Post the release notes to customers"),
            "audience": Param("everyone", type="string", enum=["everyone", "beta", "internal"]),
            "release_note": Param("", type="string", description="A line for the changelog"),
        },
        response_timeout=timedelta(hours=4),
        defaults="Hold",
    )

    @task
    def act_on_decision(decision: dict[str, Any]) -> dict[str, Any]:
        button, form = decision["chosen_options"][0], decision["params_input"]
        if button == "Hold":
            return {"action": "hold"}
        percent = form["canary_percent"] if button == "Ship to canary" else 100
        return {
            "action": "rollout",
            "percent": percent,
            "audience": form["audience"],
            "announce": form["announce"],
        }

    prepare_release_notes() >> release_decision
    act_on_decision(release_decision.output)


custom_ui()
