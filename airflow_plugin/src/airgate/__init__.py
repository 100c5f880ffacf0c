"""airgate: human-in-the-loop approvals for Apache Airflow 3, decided through the airgate bridge."""

from airgate.operators import SERVICE_ACCOUNT, AirgateApprovalOperator

__all__ = ["SERVICE_ACCOUNT", "AirgateApprovalOperator"]
