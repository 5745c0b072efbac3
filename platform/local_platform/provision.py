"""Create the topics and streams the API writes to when they are missing (idempotent).

The platform owns provisioning; tests and the benchmark call this so they also run on a platform that
has not done it yet (the local broker does not auto-create topics).
"""

from __future__ import annotations

from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from include.pinterest.settings import Settings


def ensure_topics(bootstrap: str, settings: Settings, partitions: int = 3) -> list[str]:
    """The three table topics and ``<prefix>.dlq``; returns the ones it created."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    existing = admin.list_topics(timeout=10).topics
    wanted = [*settings.topics, settings.dlq_topic]
    missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in wanted if t not in existing]
    created = []
    for topic, future in admin.create_topics(missing).items() if missing else []:
        try:
            future.result()
            created.append(topic)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise
    return created


def ensure_streams(kinesis: Any, settings: Settings, shards: int = 1) -> list[str]:
    """The three streams, waited for until ACTIVE; ``kinesis`` is a boto3 client. Returns those created."""
    present = set(kinesis.list_streams()["StreamNames"])
    created = [s for s in settings.streams if s not in present]
    for stream in created:
        kinesis.create_stream(StreamName=stream, ShardCount=shards)
    for stream in settings.streams:
        kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    return created
