"""Anti-pattern: an approval that leaves no audit trail (a flag in the run's conf), beside the fix: an audited gate."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateApprovalOperator, ApprovalSignal, approval_status

DOC = """
# Anti-pattern: no audit trail

## The failure
`check_flag` treats `{"approved": true}` in the run's conf as the approval: whoever triggers the run says
"approved" and `apply_unaudited` changes production. Nothing records who approved, when or why
(**missing accountability**); the only name anywhere is the person who wanted the change, so the requester
approved her own change (**compliance issues**: no separation of duties, no reason, nothing tamper-evident to
show an auditor). The bridge has no approval for it at all. Bounded by construction: the flag is read once;
without it the unaudited path is skipped.

## The fix, in the same run
`audited_gate` (`AirgateApprovalOperator`, policy `no-audit-fix`: a change manager other than the
requester, a reason on every vote) asks; the bridge keeps every step in its hash-chained **audit log**
(`approval.registered`, `vote.recorded` with actor and reason, `approval.decided`), readable at
`GET /api/v1/audit?approval_id=...` and checked end to end by `GET /api/v1/audit/verify`. `apply_audited`
runs on approval.

## Measured
`accountability` asks both paths the five questions an auditor asks of an approval (who decided, when,
why, someone other than the requester, a record outside the pipeline) from what each path left behind, and
pushes the answers as its XCom (**decision tracking**): the flag answers **0 of 5**, the audited gate **5 of 5**.

## Try it
Trigger `120_07_03_no_audit_antipattern` as alice with conf `{"approved": true}`: `apply_unaudited` runs at
once. As bob, approve `audited_gate` in **Approvals** (a reason is required), then read the run's
`accountability` XCom and the approval's **Audit** tab.
"""

#: The questions an auditor asks of an approval, answered by :func:`accountability_of`.
QUESTIONS = ("who", "when", "why", "not_the_requester", "system_of_record")


def accountability_of(status: ApprovalSignal | None, requester: str | None) -> dict[str, Any]:
    """Which of :data:`QUESTIONS` the bridge's record of a task answers (no record answers none)."""
    people = status["deciders"] if status else []
    answers = {
        "who": bool(people),
        "when": bool(people) and all(d["at"] for d in people),
        "why": bool(people) and all(d["reason"] for d in people),
        "not_the_requester": bool(people) and all(d["user"] != requester for d in people),
        "system_of_record": status is not None,
    }
    return {"answered": sum(answers.values()), "of": len(QUESTIONS), **answers}


@dag(
    dag_id="120_07_03_no_audit_antipattern",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "anti-pattern", "intermediate", "failure"],
)
def no_audit_antipattern() -> None:
    # ANTI-PATTERN: a boolean anyone who can trigger the run can set; nobody is named, nothing is recorded.
    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def check_flag(**context: Any) -> bool:
        return bool(context["dag_run"].conf.get("approved"))

    # FIX: a person other than the requester decides, with a reason, in the bridge's audit trail.
    audited_gate = AirgateApprovalOperator(
        task_id="audited_gate",
        subject="Rotate the payments database credentials?",
        body="A change manager other than the requester decides, with a reason (policy `no-audit-fix`).",
        response_timeout=timedelta(minutes=5),
        defaults="Reject",
    )

    @task
    def apply(path: str) -> str:
        return f"credentials rotated ({path})"

    @task(trigger_rule="all_done")
    def accountability(**context: Any) -> dict[str, dict[str, Any]]:
        run = context["dag_run"]
        return {
            gate: accountability_of(approval_status(run.dag_id, run.run_id, gate), run.triggering_user_name)
            for gate in ("check_flag", "audited_gate")
        }

    report = accountability()
    check_flag() >> apply.override(task_id="apply_unaudited")("flag") >> report
    audited_gate >> apply.override(task_id="apply_audited")("audited") >> report


no_audit_antipattern()
