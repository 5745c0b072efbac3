"""Airflow 3.3.1 as its four components (API server, scheduler, DAG processor, triggerer), each a service of
its own, on PostgreSQL as on MWAA, with this repository's DAGs and plugins and the connections of
``local_platform.connections``.

Not ``airflow standalone``: it runs the scheduler's and triggerer's log servers, which always listen on every
interface. Here they are off (``--skip-serve-logs``): the API server reads task logs from the shared log
folder, and every component listens on the bind address or not at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from local_platform.instance import REPO, Instance, PlatformError, bind_host
from local_platform.service import Service, get_json
from local_platform.services import postgres

VENV_BIN = Path(sys.executable).parent
AIRFLOW = str(VENV_BIN / "airflow")
API = "airflow-api"
ENGINES = ("postgres", "kafka", "connect", "s3", "kinesis")  # what the metadata database and the DAG's tasks reach


def airflow_settings(instance: Instance) -> dict[str, str]:
    """Airflow configuration for the instance (also given to clients that run the Airflow CLI).

    The database URL holds a password, so it is read from a file of the state folder (``_CMD``), never put
    into an environment variable, a process list or a log.
    """
    return {
        "AIRFLOW_HOME": str(instance.path("airflow")),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD": f"cat {postgres.url_file(instance)}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__API__HOST": bind_host(),
        "AIRFLOW__API__PORT": str(instance.port("airflow")),
        "AIRFLOW__API__BASE_URL": instance.url("airflow"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "10",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        # OpenLineage events of every task and DAG run, one file each (several processes write at once); the
        # namespace is OPENLINEAGE_NAMESPACE (client_env). On MWAA both are configuration (include/aws/README.md).
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(instance.lineage_dir / "airflow"), "append": False}
        ),
    }


def login(instance: Instance) -> str:
    """The UI address and the login the API server generated (a local, per-state-folder password)."""
    passwords = instance.path("airflow", "simple_auth_manager_passwords.json.generated")
    password = json.loads(passwords.read_text()).get("admin", "?") if passwords.exists() else "(not generated yet)"
    return f"{instance.url('airflow')}  login: admin / {password}"


def _health(instance: Instance) -> dict:
    return get_json(f"http://127.0.0.1:{instance.port('airflow')}/api/v2/monitor/health") or {}


def _component_healthy(key: str):
    """Healthy when the API server's health report says the component's heartbeat is recent."""
    return lambda instance: _health(instance).get(key, {}).get("status") == "healthy"


def _migrate(instance: Instance) -> None:
    """Bring the metadata database to this Airflow's schema (idempotent; the API server starts after it)."""
    from local_platform.processes import environment  # processes imports the service registry: not at import

    done = subprocess.run(
        [AIRFLOW, "db", "migrate"], env=environment(instance, SERVICES[0]), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise PlatformError(f"`airflow db migrate` failed:\n{done.stderr[-2000:]}")


def _component(name: str, health_key: str, *arguments: str) -> Service:
    """A component after the API server: healthy when the API server's health report says so."""
    return Service(
        name=f"airflow-{name}",
        healthy=_component_healthy(health_key),
        command=lambda i: [AIRFLOW, name, *arguments],
        needs=(API,),
        start_timeout_s=120,
        autostart=frozenset({"dev", "bench"}),
    )


SERVICES = (
    Service(
        name=API,
        port="airflow",
        healthy=_component_healthy("metadatabase"),
        prepare=_migrate,
        command=lambda i: [AIRFLOW, "api-server", "--host", bind_host(), "--port", str(i.port("airflow"))],
        needs=ENGINES,
        start_timeout_s=180,
        autostart=frozenset({"dev", "bench"}),  # the test suite runs DAGs in-process (`dags test`)
    ),
    _component("scheduler", "scheduler", "--skip-serve-logs"),
    _component("dag-processor", "dag_processor"),
    _component("triggerer", "triggerer", "--skip-serve-logs"),
)
