"""airgate: human-in-the-loop approvals for Apache Airflow 3, decided through the airgate bridge."""

from airgate.metrics import GatePassage, RollbackStatus, gate_passage, rollback_status
from airgate.notifiers import REQUESTED_AT_KEY
from airgate.operators import (
    SERVICE_ACCOUNT,
    AirgateApprovalOperator,
    AirgateBranchOperator,
    AirgateHITLOperator,
)
from airgate.records import DecisionRecord, decision_record, decision_record_of

__all__ = [
    "REQUESTED_AT_KEY",
    "SERVICE_ACCOUNT",
    "AirgateApprovalOperator",
    "AirgateBranchOperator",
    "AirgateHITLOperator",
    "DecisionRecord",
    "GatePassage",
    "RollbackStatus",
    "decision_record",
    "decision_record_of",
    "gate_passage",
    "rollback_status",
]
