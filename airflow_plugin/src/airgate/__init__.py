"""airgate: human-in-the-loop approvals for Apache Airflow 3, decided through the airgate bridge.

Laid out like an Airflow provider: ``operators`` (the HITL operators and the external approval request),
``sensors`` (on the bridge's store and status API), ``hooks`` (the bridge's API), ``notifiers`` (registration
with the bridge), ``plugins`` (the Approvals UI and its same-origin route), ``dags`` (the approval signal DAG).
Every name a DAG needs is importable from ``airgate`` itself.
"""

from airgate.charts import Bar, bar_chart
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
from airgate.monitoring import (
    LatencySummary,
    MetricFamily,
    bridge_metrics,
    grafana_dashboard,
    latency_summary,
    parse_metrics,
)
from airgate.notifiers.bridge import APPROVAL_ID_KEY, REQUESTED_AT_KEY
from airgate.operators.external import RequestApprovalOperator
from airgate.operators.hitl import (
    SERVICE_ACCOUNT,
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
)
from airgate.receipts import RECEIPT_XCOM_KEY, Receipt, ReceiptInvalid, ReceiptPayload, verify_receipt
from airgate.records import (
    DecisionRecord,
    decision_record,
    decision_record_of,
    deliveries_of,
    disagreements,
    escalations_of,
)
from airgate.sensors.signal_run import ApprovalSignalRunSensor
from airgate.sensors.status import ApprovalStatusSensor
from airgate.sensors.store import (
    STORE_CONN_ID,
    ApprovalRecordSensor,
    StoredApproval,
    approval_tries,
    query_store,
)
from airgate.signals import (
    FILE_SIGNAL,
    SIGNAL_DAG_ID,
    SIGNAL_KEY,
    SIGNAL_TASK_ID,
    SIGNALS_CONN_ID,
    ApprovalSignal,
    AuditEntry,
    AuditEvidence,
    Decider,
    Delivery,
    Escalation,
    asset_event,
    read_signal_file,
    remove_signal_file,
    signal_file,
    signal_path,
    signal_run_id,
    trigger_dag,
)
from airgate.workspace import local_db, workspace

__all__ = [
    "APPROVAL_ID_KEY",
    "BRIDGE_CONN_ID",
    "FILE_SIGNAL",
    "RECEIPT_XCOM_KEY",
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
    "AuditEntry",
    "AuditEvidence",
    "Bar",
    "BridgeHook",
    "Decider",
    "DecisionRecord",
    "Delivery",
    "Escalation",
    "GatePassage",
    "LatencySummary",
    "MetricFamily",
    "Receipt",
    "ReceiptInvalid",
    "ReceiptPayload",
    "RequestApprovalOperator",
    "RollbackStatus",
    "SlaOutcome",
    "StoredApproval",
    "approval_status",
    "approval_tries",
    "asset_event",
    "bar_chart",
    "bridge_metrics",
    "count_outcome",
    "decision_record",
    "decision_record_of",
    "deliveries_of",
    "disagreements",
    "escalations_of",
    "gate_passage",
    "grafana_dashboard",
    "latency_summary",
    "local_db",
    "parse_metrics",
    "query_store",
    "read_signal_file",
    "remove_signal_file",
    "rollback_status",
    "signal_file",
    "signal_path",
    "signal_run_id",
    "sla_outcome",
    "trigger_dag",
    "verify_receipt",
    "workspace",
]
