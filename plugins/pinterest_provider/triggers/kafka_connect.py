"""Wait, in the triggerer, until a Kafka Connect connector and all its tasks are RUNNING."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from pinterest_provider.hooks.kafka_connect import FAILED, RUNNING, KafkaConnectAsyncHook, connector_state


class KafkaConnectorRunningTrigger(BaseTrigger):
    """Polls the connector's status; yields ``success`` when it runs, ``error`` (with the trace) when it fails.

    The sensor's ``timeout`` bounds the wait (Airflow fails the deferral when it expires).
    """

    def __init__(self, connector_name: str, kafka_connect_conn_id: str, poll_interval: float = 5.0) -> None:
        super().__init__()
        self.connector_name = connector_name
        self.kafka_connect_conn_id = kafka_connect_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "connector_name": self.connector_name,
                "kafka_connect_conn_id": self.kafka_connect_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = KafkaConnectAsyncHook(self.kafka_connect_conn_id)
        while True:
            try:
                state, message = connector_state(await hook.get_connector_status(self.connector_name))
            except Exception as error:  # a transient REST failure is not a connector failure: keep waiting
                self.log.warning("reading the status of %s failed: %s", self.connector_name, error)
                state, message = None, str(error)
            if state == RUNNING:
                yield TriggerEvent({"status": "success", "message": message})
                return
            if state == FAILED:
                yield TriggerEvent({"status": "error", "message": message})
                return
            self.log.info("%s", message)
            await asyncio.sleep(self.poll_interval)
