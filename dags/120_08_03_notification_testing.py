"""Testing notification integrations: a release request delivered by Slack and email, and the tests of both payloads."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from airflow.sdk import dag, task

from airgate import AirgateBranchOperator, DecisionRecord, decision_record_of

#: The changes of the release under review: titles with the characters Slack's mrkdwn and HTML must escape.
CHANGES = (
    ("fix", "Escape <script> & quotes in report titles"),
    ("feature", "Export more than 10 000 rows (> 1 page)"),
    ("fix", "Retry the webhook on HTTP 503"),
)

DOC = """
# Testing notification integrations

The bridge renders and sends every notification; the DAG only asks. So test the notifications where they are
made, from the bridge's own templates, and test the DAG's handling of the answers they carry.

`describe_release` builds the request from the release's changes (titles with `<`, `>` and `&` in them, which
each channel must escape); `approve_release` (`AirgateBranchOperator`, policy `notification-testing`: admin or
bob, reached by Slack with email as fallback) branches to `ship_release` on *Ship* and `hold_release` on
*Hold*; `record_decision` keeps who decided and through which channel.

## The tests
- On the real stack (`test/integration/testing-workflows.test.ts`), with the suite's stand-ins: Slack's Web
  API (it keeps what the bridge posts and delivers to admin only) and the SMTP server.
  - **Slack integration**: admin's request is a `chat.postMessage` whose Block Kit the scenario checks
    (**payload format**: an escaped mrkdwn section, one button per option with the approval and option in
    its value, the first styled `primary`, every text within Slack's limits); bob's Slack delivery
    fails after its retries and falls back to email, as the message store (`GET /api/v1/messages`) shows.
  - **Email delivery**: the mail bob receives (subject, plain text with the changes as written, HTML with
    them escaped, a link per option).
  - **Action handling**: admin clicks *Ship* (a signed Slack interaction with the button's own value) and the
    message is updated to say who decided; in a second run bob's mailed *Hold* link holds the release.
- With `airgate.testing` (`airflow_plugin/tests/reference_dags/test_120_08_03_notification_testing.py`): the
  request the DAG registers (subject, body, options), and each answer a channel can bring back (Ship by Slack,
  Hold by email with a reason, Airflow's timeout taking *Hold*).

## Try it
Trigger `120_08_03_notification_testing` as alice; approve as admin or bob in **Approvals**, or from Slack or
email where a channels file configures them; **Messages** shows each notification and its deliveries.
"""


@dag(
    dag_id="120_08_03_notification_testing",
    schedule=None,
    catchup=False,
    doc_md=DOC,
    tags=["reference", "testing", "intermediate", "success"],
)
def notification_testing() -> None:
    @task
    def describe_release() -> dict[str, Any]:
        kinds = Counter(kind for kind, _ in CHANGES)
        summary = f"{len(CHANGES)} changes ({', '.join(f'{kind}: {n}' for kind, n in kinds.most_common())})"
        return {
            "version": "5.0.1",
            "summary": summary,
            "changes": "\n".join(f"- {title}" for _, title in CHANGES),
        }

    release = describe_release()
    approve_release = AirgateBranchOperator(
        task_id="approve_release",
        subject="Ship notifier {{ ti.xcom_pull(task_ids='describe_release')['version'] }}?",
        body="{{ ti.xcom_pull(task_ids='describe_release')['summary'] }}\n"
        "{{ ti.xcom_pull(task_ids='describe_release')['changes'] }}",
        options=["Ship", "Hold"],
        options_mapping={"Ship": "ship_release", "Hold": "hold_release"},
        response_timeout=timedelta(minutes=5),
        defaults="Hold",
    )

    @task
    def ship_release(described: dict[str, Any]) -> str:
        return f"shipped notifier {described['version']}"

    @task
    def hold_release(described: dict[str, Any]) -> str:
        return f"held notifier {described['version']}"

    @task(trigger_rule="all_done")
    def record_decision(**context: Any) -> DecisionRecord:
        return decision_record_of(context["ti"], "approve_release")

    release >> approve_release >> [ship_release(release), hold_release(release)] >> record_decision()


notification_testing()
