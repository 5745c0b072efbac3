"""Sensor: the S3 sink (or any) connector and all its tasks are RUNNING; fails at once when one FAILED."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from pinterest_provider.hooks.kafka_connect import FAILED, RUNNING, KafkaConnectHook, connector_state
from pinterest_provider.triggers.kafka_connect import KafkaConnectorRunningTrigger


class KafkaConnectorRunningSensor(BaseSensorOperator):
    """Wait until ``connector_name`` and its tasks are RUNNING.

    A FAILED connector or task fails the task immediately (no retry burns the timeout), with the worker's
    error trace in the message. ``deferrable=True`` hands the wait to the triggerer.
    """

    template_fields: Sequence[str] = ("connector_name",)

    def __init__(
        self,
        *,
        connector_name: str,
        kafka_connect_conn_id: str = KafkaConnectHook.default_conn_name,
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connector_name = connector_name
        self.kafka_connect_conn_id = kafka_connect_conn_id
        self.deferrable = deferrable

    def poke(self, context) -> bool:
        status = KafkaConnectHook(self.kafka_connect_conn_id).get_connector_status(self.connector_name)
        state, message = connector_state(status)
        self.log.info("%s", message)
        if state == FAILED:
            raise AirflowFailException(message)
        return state == RUNNING

    def execute(self, context) -> None:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        self.defer(
            trigger=KafkaConnectorRunningTrigger(
                connector_name=self.connector_name,
                kafka_connect_conn_id=self.kafka_connect_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context, event: dict[str, Any]) -> None:
        if event.get("status") != "success":
            raise AirflowFailException(event.get("message", "the connector did not reach RUNNING"))
        self.log.info("%s", event.get("message"))
