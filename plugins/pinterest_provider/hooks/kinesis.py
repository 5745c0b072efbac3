"""Kinesis Data Streams: create, describe and count, on the amazon provider's KinesisHook (boto3 client)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.amazon.aws.hooks.kinesis import KinesisHook


class KinesisStreamsHook(KinesisHook):
    """The few stream operations the pipeline needs, returning plain data."""

    def ensure_stream(self, name: str, shard_count: int) -> str:
        """Create ``name`` unless it exists; returns ``created`` or ``exists`` (safe to call on every run)."""
        client = self.conn
        try:
            client.create_stream(StreamName=name, ShardCount=shard_count)
            return "created"
        except client.exceptions.ResourceInUseException:
            return "exists"

    def stream_status(self, name: str) -> str | None:
        """CREATING, ACTIVE, UPDATING, DELETING, or None when the stream does not exist."""
        client = self.conn
        try:
            return client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"]
        except client.exceptions.ResourceNotFoundException:
            return None

    def count_records_since(self, name: str, since: datetime, max_calls: int = 200) -> int:
        """Records that arrived in ``name`` at or after ``since``, over all shards (bounded GetRecords calls)."""
        client = self.conn
        total = 0
        for shard in client.list_shards(StreamName=name)["Shards"]:
            iterator = client.get_shard_iterator(
                StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="AT_TIMESTAMP", Timestamp=since
            )["ShardIterator"]
            for _ in range(max_calls):
                page: dict[str, Any] = client.get_records(ShardIterator=iterator, Limit=10_000)
                total += len(page["Records"])
                iterator = page.get("NextShardIterator")
                if not iterator or (not page["Records"] and page.get("MillisBehindLatest", 0) == 0):
                    break
        return total
