"""airgate's operators: the bridge decides every one of them, and branch mappings are complete."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import pytest
from airflow.sdk.exceptions import DownstreamTasksSkipped

from airgate import (
    REQUESTED_AT_KEY,
    SERVICE_ACCOUNT,
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
)
from airgate.notifiers import BridgeRegistrationNotifier, RequestTimeNotifier

BRANCH = {
    "options": ["Approve", "Reject"],
    "options_mapping": {"Approve": "deploy", "Reject": "close"},
}


def build(cls, **kwargs):
    extra = BRANCH if cls is AirgateBranchOperator else {}
    if cls is AirgateHITLOperator:
        extra = {"options": ["Ship", "Hold"]}
    return cls(task_id="ask", subject="Go?", **extra, **kwargs)


OPERATORS = [AirgateApprovalOperator, AirgateBranchOperator, AirgateHITLOperator]


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_only_the_bridge_service_account_may_answer(cls):
    assert build(cls).assigned_users == [{"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT}]


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_assigning_people_in_the_dag_is_refused(cls):
    with pytest.raises(ValueError, match="policies"):
        build(cls, assigned_users=[{"id": "alice", "name": "alice"}])


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda c: c.__name__)
def test_registration_and_request_time_come_before_the_dags_own_notifiers(cls):
    own = mock.Mock(spec=BridgeRegistrationNotifier)
    notifiers = build(cls, notifiers=[own]).notifiers
    assert [type(n) for n in notifiers[:2]] == [BridgeRegistrationNotifier, RequestTimeNotifier]
    assert notifiers[2] is own


def test_branch_options_must_all_be_mapped():
    with pytest.raises(ValueError, match=r"missing: \['Defer'\]"):
        AirgateBranchOperator(
            task_id="decide",
            subject="Go?",
            options=["Approve", "Defer"],
            options_mapping={"Approve": "deploy"},
        )


def test_branch_mapping_may_not_name_unknown_options():
    with pytest.raises(ValueError, match="not in `options`"):
        AirgateBranchOperator(
            task_id="decide",
            subject="Go?",
            options=["Approve"],
            options_mapping={"Approve": "deploy", "Maybe": "wait"},
        )


def answer(option: str) -> dict:
    return {
        "chosen_options": [option],
        "params_input": {},
        "responded_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "responded_by_user": {"id": SERVICE_ACCOUNT, "name": SERVICE_ACCOUNT},
    }


def test_branch_keeps_the_decision_when_it_skips_the_paths_not_chosen():
    op = build(AirgateBranchOperator)
    ti = mock.Mock()
    # Airflow ends a branch that skips something with DownstreamTasksSkipped, so its return is never pushed.
    skipped = DownstreamTasksSkipped(tasks=["deploy"])
    with (
        mock.patch.object(AirgateBranchOperator, "do_branch", side_effect=skipped) as do_branch,
        pytest.raises(DownstreamTasksSkipped),
    ):
        op.execute_complete({"ti": ti}, answer("Reject"))
    assert do_branch.call_args.kwargs["branches_to_execute"] == ["close"]
    ti.xcom_push.assert_called_once_with(key="return_value", value=answer("Reject"))


def test_approval_keeps_the_decision_on_reject_and_returns_it_on_approve():
    op = build(AirgateApprovalOperator)
    op.downstream_task_ids.add("load")
    ti = mock.Mock()
    with (
        mock.patch.object(
            AirgateApprovalOperator, "skip", side_effect=DownstreamTasksSkipped(tasks=["load"])
        ),
        mock.patch.object(AirgateApprovalOperator, "get_direct_relatives", return_value=[]),
        pytest.raises(DownstreamTasksSkipped),
    ):
        op.execute_complete({"ti": ti, "task": op}, answer("Reject"))
    ti.xcom_push.assert_called_once_with(key="return_value", value=answer("Reject"))

    assert op.execute_complete({"ti": mock.Mock(), "task": op}, answer("Approve")) == answer("Approve")


def test_request_time_notifier_records_when_the_question_was_asked():
    ti = mock.Mock()
    RequestTimeNotifier().notify({"ti": ti})
    key, value = ti.xcom_push.call_args.kwargs["key"], ti.xcom_push.call_args.kwargs["value"]
    assert key == REQUESTED_AT_KEY
    assert datetime.fromisoformat(value).tzinfo is not None
