"""Kafka Connect REST API hooks (sync for operators and sensors, async for triggers).

Both are thin over the HTTP provider's hooks, so the connection (host, port, auth, TLS) comes from an
Airflow connection of type ``http``: ``AIRFLOW_CONN_*`` locally, Secrets Manager on MWAA.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponseError
from airflow.providers.http.hooks.http import HttpAsyncHook, HttpHook

RUNNING, FAILED, PENDING = "running", "failed", "pending"


class KafkaConnectError(RuntimeError):
    """The Kafka Connect REST API refused a request; the message carries its error body."""


def connector_state(status: dict[str, Any] | None) -> tuple[str, str]:
    """Reduce a ``/connectors/<name>/status`` document to (state, human message).

    ``failed`` when the connector or any task is FAILED (message: its trace), ``running`` when the connector
    and at least one task are RUNNING and none is in another state, else ``pending``.
    """
    if not status:
        return PENDING, "the connector does not exist yet"
    connector = status.get("connector", {})
    tasks = status.get("tasks", [])
    name = status.get("name", "?")
    if connector.get("state") == "FAILED":
        return FAILED, f"connector {name} FAILED on {connector.get('worker_id')}: {connector.get('trace', '')}"
    failed = [t for t in tasks if t.get("state") == "FAILED"]
    if failed:
        task = failed[0]
        return (
            FAILED,
            f"connector {name} task {task.get('id')} FAILED on {task.get('worker_id')}: {task.get('trace', '')}",
        )
    states = sorted({t.get("state") for t in tasks})
    if connector.get("state") == "RUNNING" and tasks and states == ["RUNNING"]:
        return RUNNING, f"connector {name} and its {len(tasks)} task(s) are RUNNING"
    return PENDING, f"connector {name} is {connector.get('state')}, tasks {states or 'not assigned yet'}"


class KafkaConnectHook(HttpHook):
    """Create, update and inspect connectors through the Kafka Connect REST API."""

    conn_name_attr = "kafka_connect_conn_id"
    default_conn_name = "kafka_connect_default"
    hook_name = "Kafka Connect"

    def __init__(self, kafka_connect_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(http_conn_id=kafka_connect_conn_id, **kwargs)

    def _call(self, method: str, endpoint: str, body: dict | None = None):
        self.method = method
        response = self.run(
            endpoint,
            data=json.dumps(body) if body is not None else None,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            extra_options={"check_response": False, "timeout": 30},
        )
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            raise KafkaConnectError(f"{method} {endpoint} answered {response.status_code}: {response.text}")
        return response.json() if response.content else {}

    def get_connector_config(self, name: str) -> dict[str, str] | None:
        return self._call("GET", f"connectors/{name}/config")

    def put_connector_config(self, name: str, config: dict[str, str]) -> dict[str, Any]:
        """Create the connector or update its configuration (``PUT .../config`` is idempotent)."""
        return self._call("PUT", f"connectors/{name}/config", config)

    def get_connector_status(self, name: str) -> dict[str, Any] | None:
        return self._call("GET", f"connectors/{name}/status")


class KafkaConnectAsyncHook(HttpAsyncHook):
    """The async twin of :class:`KafkaConnectHook`, for triggers (status reads only)."""

    def __init__(self, kafka_connect_conn_id: str = KafkaConnectHook.default_conn_name) -> None:
        super().__init__(method="GET", http_conn_id=kafka_connect_conn_id, retry_limit=1)

    async def get_connector_status(self, name: str) -> dict[str, Any] | None:
        async with self.session() as http:
            try:
                response = await http.run(endpoint=f"connectors/{name}/status")
            except ClientResponseError as error:
                if error.status == 404:  # not created yet, or not yet visible to this worker
                    return None
                raise
            return await response.json()
