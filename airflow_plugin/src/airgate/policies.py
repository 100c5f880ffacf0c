"""
Checking a policies file against the DAGs that will use it: ``airgate policies check``.

The bridge owns the policies file's schema and rules (TypeScript), so nothing here re-implements them: the
file's text and every airgate approval task of the DAGs folder (parsed with Airflow's own ``DagBag``) go to a
running bridge's ``POST /api/v1/policies/check``, which validates the file and dry-runs each task against it
(not against the file the bridge itself runs with). What comes back is turned into one line per problem.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk.definitions.mappedoperator import MappedOperator

from airgate.operators.external import RequestApprovalOperator
from airgate.operators.hitl import (
    SERVICE_ACCOUNT,
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
)

if TYPE_CHECKING:
    from airflow.sdk import DAG, BaseOperator

    from airgate.hooks.bridge import BridgeHook


class DryRunPerson(TypedDict):
    user: str
    #: Marked absent in the policies file: not counted towards reaching the quorum.
    absent: bool
    #: Where they would be notified (``messages``, the bridge's own list, always).
    channels: list[str]
    undeliverable: list[dict[str, str]]


class DryRunGroup(TypedDict):
    name: str
    #: any, n_of, majority or unanimous.
    rule: str
    needed: int
    people: list[DryRunPerson]
    roles: list[str]
    #: ``{"user", "reason"}``: named by the level but barred (self-approval, segregation of duties).
    excluded: list[dict[str, str]]


class DryRunLevel(TypedDict):
    name: str
    groups: list[DryRunGroup]
    reachable: bool
    problems: list[str]


class PolicyVerdict(TypedDict):
    name: str
    #: matched, shadowed, dag_id, task_id, tags, condition_false, condition_error, no_outcome or not_reached.
    verdict: str
    detail: str


class PolicyDryRun(TypedDict):
    """Who would have to decide an approval task, by when and how (``POST /api/v1/policies/dry-run``)."""

    policy: str | None
    policy_error: str | None
    policy_version: str
    policies: list[PolicyVerdict]
    levels: list[DryRunLevel]
    deadline: dict[str, Any] | None
    reminders: dict[str, Any] | None
    escalations: list[dict[str, Any]]
    break_glass: dict[str, list[str]] | None
    notifications: dict[str, Any] | None
    reachable: bool
    problems: list[str]
    notes: list[str]


class CheckedDryRun(PolicyDryRun):
    dag_id: str
    task_id: str


class PolicyCheck(TypedDict):
    """A policies file validated and dry-run against approval tasks (``POST /api/v1/policies/check``)."""

    valid: bool
    #: The file's first problem as ``FILE:LINE:COLUMN: PATH: DETAIL``.
    error: str | None
    version: str | None
    results: list[CheckedDryRun]


class CheckedApproval(TypedDict):
    """One approval task as the check sends it: what Airflow would say about it, read from the DAG file."""

    dag_id: str
    task_id: str
    tags: list[str]
    owners: list[str]
    conf: dict[str, Any]
    params: dict[str, Any]
    options: list[str]
    #: Who would trigger the run; left out: the token's person; None: nobody (a schedule, an asset event).
    requester: NotRequired[str | None]


#: Every airgate operator that asks for a decision (the HITL ones assign the bridge's service account).
AIRGATE_APPROVALS = (
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
    RequestApprovalOperator,
)


def is_approval_task(task: BaseOperator | MappedOperator) -> bool:
    """
    An airgate approval: one of airgate's operators (mapped or not), or a HITL task the bridge's service
    account answers. Airflow's own HITL tasks with named users are no business of the bridge.
    """
    cls = task.operator_class if isinstance(task, MappedOperator) else type(task)
    if isinstance(cls, type) and issubclass(cls, AIRGATE_APPROVALS):
        return True
    return isinstance(task, HITLOperator) and any(
        user.get("id") == SERVICE_ACCOUNT for user in task.assigned_users or []
    )


def checked_approval(
    dag: DAG, task: BaseOperator | MappedOperator, requester: str | None = None, unattended: bool = False
) -> CheckedApproval:
    """
    The approval task as registration would describe it for a run triggered with the DAG's default params:
    the DAG's tags and owners (as Airflow lists them), the params' defaults as conf, the form's defaults.
    The run's requester is ``requester``, else the token's person; with ``unattended``, nobody (a schedule).
    """
    # A mapped task's form and options are known per instance only; its partial arguments hold the options.
    form: dict[str, Any] = task.serialized_params if isinstance(task, HITLOperator) else {}
    if isinstance(task, MappedOperator):
        options = list(task.partial_kwargs.get("options") or [])
    else:
        options = list(getattr(task, "options", []))
    approval: CheckedApproval = {
        "dag_id": dag.dag_id,
        "task_id": task.task_id,
        "tags": sorted(dag.tags),
        "owners": sorted({t.owner for t in dag.tasks if t.owner}),
        "conf": dag.params.dump(),
        # As the bridge merges them at registration: a field without a value is null.
        "params": {name: (spec or {}).get("value") for name, spec in form.items()},
        "options": options,
    }
    if unattended:
        approval["requester"] = None
    elif requester is not None:
        approval["requester"] = requester
    return approval


@dataclass(frozen=True)
class DagFolder:
    """The airgate approval tasks of a DAGs folder, and the files that did not import."""

    approvals: list[CheckedApproval]
    import_errors: dict[str, str]


def scan_dags(folder: Path, requester: str | None = None, unattended: bool = False) -> DagFolder:
    """Parses ``folder`` with Airflow's ``DagBag`` and lists every airgate approval task in it."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(folder))
    approvals = [
        checked_approval(dag, task, requester, unattended)
        for dag_id in sorted(bag.dags)
        for dag in [bag.dags[dag_id]]
        for task in dag.tasks
        if is_approval_task(task)
    ]
    return DagFolder(approvals, dict(bag.import_errors))


def problems_of(check: PolicyCheck) -> Iterator[str]:
    """One line per problem: the file's error, or each approval task without a policy that can decide it."""
    if not check["valid"]:
        yield f"invalid policies file: {check['error']}"
        return
    for result in check["results"]:
        where = f"{result['dag_id']}.{result['task_id']}"
        for problem in result["problems"]:
            yield f"{where}: {problem}"


def check_policies(
    hook: BridgeHook,
    policies_file: Path,
    folder: Path | None,
    *,
    token: str,
    requester: str | None = None,
    unattended: bool = False,
) -> tuple[PolicyCheck, list[str]]:
    """
    Checks ``policies_file`` (and, with ``folder``, every approval task in it) on the bridge; returns the
    bridge's answer and the problems, one line each (DAG files that do not import among them).
    """
    scanned = scan_dags(folder, requester, unattended) if folder is not None else DagFolder([], {})
    check = hook.check_policies(
        policies_file.read_text(), scanned.approvals, token=token, source=str(policies_file)
    )
    problems = [
        f"{file}: does not import: {error.splitlines()[-1] if error else ''}"
        for file, error in sorted(scanned.import_errors.items())
    ]
    return check, [*problems, *problems_of(check)]
