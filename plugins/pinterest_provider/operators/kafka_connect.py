"""Create or update a Kafka Connect connector from a configuration kept in the repository."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from pinterest_provider.hooks.kafka_connect import KafkaConnectHook


class KafkaConnectEnsureConnectorOperator(BaseOperator):
    """Make the connector ``connector_name`` have exactly ``config`` (create, update or leave as is).

    Idempotent and retryable: ``PUT /connectors/<name>/config`` creates or replaces, and an unchanged
    configuration is not written again (so the connector is not restarted needlessly). Returns the
    action taken; the configuration itself is not pushed to XCom (it may name credentials providers).
    """

    template_fields: Sequence[str] = ("connector_name", "config")

    def __init__(
        self,
        *,
        connector_name: str,
        config: dict[str, Any],
        kafka_connect_conn_id: str = KafkaConnectHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.connector_name = connector_name
        self.config = config
        self.kafka_connect_conn_id = kafka_connect_conn_id

    def execute(self, context) -> str:
        hook = KafkaConnectHook(self.kafka_connect_conn_id)
        wanted = {key: str(value) for key, value in self.config.items()}
        current = hook.get_connector_config(self.connector_name)
        if current is not None and {k: v for k, v in current.items() if k != "name"} == wanted:
            self.log.info("connector %s already has this configuration", self.connector_name)
            return "unchanged"
        hook.put_connector_config(self.connector_name, wanted)
        action = "created" if current is None else "updated"
        self.log.info("connector %s %s", self.connector_name, action)
        return action
