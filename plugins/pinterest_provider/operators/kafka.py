"""Create Kafka topics through the Kafka provider's admin hook (idempotent: existing topics are kept)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.apache.kafka.hooks.client import KafkaAdminClientHook
from airflow.sdk import BaseOperator


class KafkaCreateTopicsOperator(BaseOperator):
    """Make sure ``topics`` exist with ``num_partitions`` partitions; returns the topic names for XCom."""

    template_fields: Sequence[str] = ("topics",)

    def __init__(
        self,
        *,
        topics: Sequence[str],
        num_partitions: int = 3,
        replication_factor: int = 1,
        kafka_config_id: str = "kafka_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.topics = topics
        self.num_partitions = num_partitions
        self.replication_factor = replication_factor
        self.kafka_config_id = kafka_config_id

    def execute(self, context) -> list[str]:
        hook = KafkaAdminClientHook(kafka_config_id=self.kafka_config_id)
        hook.create_topic([(t, self.num_partitions, self.replication_factor) for t in self.topics])
        existing = set(hook.get_conn.list_topics(timeout=30).topics)
        missing = sorted(set(self.topics) - existing)
        if missing:
            raise RuntimeError(f"topics {missing} are still missing after creation")
        return list(self.topics)
