"""Airflow 3.3.1 ``standalone`` (API server, scheduler, DAG processor, triggerer) with this repository's DAGs
and plugins, and the connections of ``local_platform.connections``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from local_platform.instance import REPO, Instance
from local_platform.service import Service, get_json

VENV_BIN = Path(sys.executable).parent


def airflow_settings(instance: Instance) -> dict[str, str]:
    """Airflow configuration for the instance (also given to clients that run the Airflow CLI)."""
    return {
        "AIRFLOW_HOME": str(instance.path("airflow")),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__PORT": str(instance.port("airflow")),
        "AIRFLOW__API__BASE_URL": instance.url("airflow"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
    }


def login(instance: Instance) -> str:
    """The UI address and the login standalone generated (a local, per-state-folder password)."""
    passwords = instance.path("airflow", "simple_auth_manager_passwords.json.generated")
    password = json.loads(passwords.read_text()).get("admin", "?") if passwords.exists() else "(not generated yet)"
    return f"{instance.url('airflow')}  login: admin / {password}"


def _healthy(instance: Instance) -> bool:
    health = get_json(f"http://127.0.0.1:{instance.port('airflow')}/api/v2/monitor/health")
    return bool(health) and health.get("scheduler", {}).get("status") == "healthy"


SERVICE = Service(
    name="airflow",
    port="airflow",
    healthy=_healthy,
    command=lambda i: [str(VENV_BIN / "airflow"), "standalone"],
    needs=("kafka", "connect", "s3", "kinesis"),
    start_timeout_s=180,
    autostart=frozenset({"dev", "bench"}),  # the test suite runs DAGs in-process (`dags test`), not a scheduler
)
