"""The Airflow plugin: the Approvals UI bundle and the same-origin route to the bridge."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airgate.plugins.web import PREFIX, app

BUNDLE = f"{PREFIX}/static/airgate.umd.js"


class AirgatePlugin(AirflowPlugin):
    name = "airgate"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "airgate"}]
    # One bundle serves every app: it publishes each app under its name (see plugin-ui/src/main.tsx),
    # so a name here must match a key there.
    react_apps = [
        {
            "name": "Approvals",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "approvals",
        },
        {
            "name": "Review queue",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "review-queue",
        },
        {
            "name": "Approval",
            "bundle_url": BUNDLE,
            "destination": "task_instance",
            "url_route": "approval",
        },
        {
            "name": "Task actions",
            "bundle_url": BUNDLE,
            "destination": "task_instance",
            "url_route": "task-actions",
        },
        {
            "name": "Run actions",
            "bundle_url": BUNDLE,
            "destination": "dag_run",
            "url_route": "run-actions",
        },
        {
            "name": "Audit",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "audit",
            "category": "browse",
        },
        {
            "name": "Messages",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "messages",
            "category": "browse",
        },
        {
            "name": "Policies",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "policies",
            "category": "admin",
        },
        {
            "name": "Delegations",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "delegations",
            "category": "browse",
        },
        {
            "name": "Approvals dashboard",
            "bundle_url": BUNDLE,
            "destination": "dashboard",
        },
        {
            "name": "Policy preview",
            "bundle_url": BUNDLE,
            "destination": "nav",
            "url_route": "policy-preview",
        },
    ]
