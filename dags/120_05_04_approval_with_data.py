"""Approval with data input: the approver fills a form, the form is validated, and its values drive the load."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from airflow.sdk import Param, dag, task

from airgate import AirgateApprovalOperator

DOC = """
# Approval with data input

Sometimes the approver knows something the pipeline needs: how big the batches may be tonight, which regions
to load, how urgent it is. Instead of a yes/no followed by a second trigger with conf, the approval itself
**collects the data**: `approve_load` is an `AirgateApprovalOperator` with `params`, rendered as a form in the
Approvals UI (and in Slack/Teams/email links, which open it).

## Validation, three times
1. **The bridge** checks the form against the params' JSON schema when the vote arrives (`batch_size` between
   500 and 50 000, `regions` from the list, `priority` from the list) and refuses a bad value with
   `422 form_invalid` naming the field, before anything reaches Airflow.
2. **Airflow** validates the answer against the same Params when the task resumes.
3. **`validate_input`** checks what a static schema cannot: the chosen regions must have data in this run's
   plan, and a batch may not exceed the rows to load. A failure stops the run before anything is loaded.

## Using the input
The response lands in `approve_load`'s XCom as `{chosen_options, params_input, responded_at,
responded_by_user}`; `load_batches` sizes its work from `params_input`. *Reject* (or no answer within
12 hours) skips everything after the approval.

Policy `approval-with-data`: one data steward decides, not the person who triggered the run.

## Try it
Trigger `120_05_04_approval_with_data` as alice; as bob open **Approvals**, set the batch size, regions and
priority, and approve. Try a batch size of 50 first: the form refuses it.
"""

REGIONS = ["eu", "us", "apac"]


@dag(
    dag_id="120_05_04_approval_with_data",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "patterns", "advanced", "success"],
)
def approval_with_data() -> None:
    @task
    def plan_load() -> dict[str, Any]:
        return {"rows_by_region": {"eu": 120_000, "us": 80_000}}

    approve_load = AirgateApprovalOperator(
        task_id="approve_load",
        subject="Load run {{ dag_run.run_id }}: choose batch size and regions",
        body="Rows waiting per region: {{ ti.xcom_pull(task_ids='plan_load')['rows_by_region'] }}",
        params={
            "batch_size": Param(
                5000, type="integer", minimum=500, maximum=50_000, description="Rows per batch"
            ),
            "regions": Param(
                ["eu"],
                type="array",
                items={"type": "string", "enum": REGIONS},
                minItems=1,
                uniqueItems=True,
                description="Regions to load",
            ),
            "priority": Param("normal", type="string", enum=["low", "normal", "high"]),
        },
        response_timeout=timedelta(hours=12),
        defaults="Reject",
    )

    @task
    def validate_input(plan: dict[str, Any], decision: dict[str, Any]) -> dict[str, Any]:
        form = decision["params_input"]
        rows = plan["rows_by_region"]
        if empty := [region for region in form["regions"] if region not in rows]:
            raise ValueError(f"no rows to load in {empty}; this run has rows for {sorted(rows)}")
        if form["batch_size"] > max(rows[region] for region in form["regions"]):
            raise ValueError("batch_size is larger than any region's rows")
        return {**form, "rows": {region: rows[region] for region in form["regions"]}}

    @task
    def load_batches(load: dict[str, Any]) -> dict[str, Any]:
        batches = {region: math.ceil(rows / load["batch_size"]) for region, rows in load["rows"].items()}
        return {"batches": batches, "priority": load["priority"]}

    plan = plan_load()
    plan >> approve_load
    load_batches(validate_input(plan, approve_load.output))


approval_with_data()
