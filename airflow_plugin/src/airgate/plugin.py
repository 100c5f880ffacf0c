"""The Airflow plugin: the Approvals UI bundle and the same-origin route to the bridge."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airgate.web import PREFIX, app


class AirgatePlugin(AirflowPlugin):
    name = "airgate"
    fastapi_apps = [{"app": app, "url_prefix": PREFIX, "name": "airgate"}]
    react_apps = [
        {
            "name": "Approvals",
            "bundle_url": f"{PREFIX}/static/airgate.umd.js",
            "destination": "nav",
            "url_route": "approvals",
        },
        {
            "name": "Approval",
            "bundle_url": f"{PREFIX}/static/airgate.umd.js",
            "destination": "task_instance",
            "url_route": "approval",
        },
    ]
