"""airgate: human-in-the-loop approvals for Apache Airflow 3, decided through the airgate bridge.

Laid out like an Airflow provider: ``operators`` (the HITL operators and the external approval request),
``sensors`` (on the bridge's store and status API), ``hooks`` (the bridge's API), ``notifiers`` (registration
with the bridge), ``plugins`` (the Approvals UI and its same-origin route), ``dags`` (the approval signal DAG).
Every name a DAG needs is importable from ``airgate`` itself.
"""

from airgate.hooks.bridge import BRIDGE_CONN_ID, BridgeHook, approval_status
from airgate.metrics import (
    GatePassage,
    RollbackStatus,
    SlaOutcome,
    count_outcome,
    gate_passage,
    rollback_status,
    sla_outcome,
)
from airgate.notifiers.bridge import REQUESTED_AT_KEY
from airgate.operators.external import RequestApprovalOperator
from airgate.operators.hitl import (
    SERVICE_ACCOUNT,
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
)
from airgate.records import DecisionRecord, decision_record, decision_record_of, disagreements, escalations_of
from airgate.sensors.signal_run import ApprovalSignalRunSensor
from airgate.sensors.status import ApprovalStatusSensor
from airgate.sensors.store import STORE_CONN_ID, ApprovalRecordSensor, query_store
from airgate.signals import (
    FILE_SIGNAL,
    SIGNAL_DAG_ID,
    SIGNAL_KEY,
    SIGNAL_TASK_ID,
    SIGNALS_CONN_ID,
    ApprovalSignal,
    Decider,
    Escalation,
    asset_event,
    read_signal_file,
    remove_signal_file,
    signal_file,
    signal_path,
    signal_run_id,
    trigger_dag,
)

__all__ = [
    "BRIDGE_CONN_ID",
    "FILE_SIGNAL",
    "REQUESTED_AT_KEY",
    "SERVICE_ACCOUNT",
    "SIGNALS_CONN_ID",
    "SIGNAL_DAG_ID",
    "SIGNAL_KEY",
    "SIGNAL_TASK_ID",
    "STORE_CONN_ID",
    "AirgateApprovalOperator",
    "AirgateBranchOperator",
    "AirgateHITLOperator",
    "ApprovalRecordSensor",
    "ApprovalSignal",
    "ApprovalSignalRunSensor",
    "ApprovalStatusSensor",
    "BridgeHook",
    "Decider",
    "DecisionRecord",
    "Escalation",
    "GatePassage",
    "RequestApprovalOperator",
    "RollbackStatus",
    "SlaOutcome",
    "approval_status",
    "asset_event",
    "count_outcome",
    "decision_record",
    "decision_record_of",
    "disagreements",
    "escalations_of",
    "gate_passage",
    "query_store",
    "read_signal_file",
    "remove_signal_file",
    "rollback_status",
    "signal_file",
    "signal_path",
    "signal_run_id",
    "sla_outcome",
    "trigger_dag",
]
