"""In-memory stand-ins for Kafka and Kinesis, injected through ``create_app`` in the contract tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from include.pinterest.ingest.kinesis import KinesisFailure
from include.pinterest.ingest.producer import BrokerUnavailable, Delivery, OutgoingMessage


class FakeProducer:
    """Records what was produced; ``down``/``queue_full``/``timeouts`` switch on the broker faults."""

    def __init__(self) -> None:
        self.messages: list[OutgoingMessage] = []
        self.down = False
        self.queue_full = False
        self.timeouts = False
        self._offsets: dict[str, int] = defaultdict(int)

    async def ensure_reachable(self) -> None:
        if self.down:
            raise BrokerUnavailable("no Kafka broker is reachable")

    async def produce(self, messages: Sequence[OutgoingMessage]) -> list[Delivery]:
        if self.queue_full:
            raise BrokerUnavailable("the producer queue is full")
        deliveries = []
        for message in messages:
            if self.timeouts:
                deliveries.append(Delivery(error="Local: Message timed out", transient=True))
                continue
            # As librdkafka does, keep the bytes themselves (a record's value is a view of the request body).
            self.messages.append(OutgoingMessage(message.topic, message.key, bytes(message.value)))
            deliveries.append(Delivery(partition=0, offset=self._offsets[message.topic]))
            self._offsets[message.topic] += 1
        return deliveries

    async def health(self) -> dict[str, Any]:
        return {"reachable": not self.down}

    def close(self) -> None:
        pass

    def on(self, topic: str) -> list[OutgoingMessage]:
        return [m for m in self.messages if m.topic == topic]


class FakeKinesis:
    """Streams as lists of (data, partition key)."""

    def __init__(self, streams: Sequence[str] = ()) -> None:
        self.streams: dict[str, list[tuple[bytes, str]]] = {name: [] for name in streams}
        self.unreachable = False

    def _stream(self, name: str) -> list[tuple[bytes, str]]:
        if self.unreachable:
            raise KinesisFailure(503, "Kinesis is unreachable: EndpointConnectionError")
        if name not in self.streams:
            raise KinesisFailure(404, f"Stream {name} under account 000000000000 not found.")
        return self.streams[name]

    async def list_streams(self) -> dict[str, Any]:
        if self.unreachable:
            raise KinesisFailure(503, "Kinesis is unreachable: EndpointConnectionError")
        return {"StreamNames": sorted(self.streams), "HasMoreStreams": False}

    async def describe_stream(self, name: str) -> dict[str, Any]:
        self._stream(name)
        return {"StreamDescription": {"StreamName": name, "StreamStatus": "ACTIVE", "Shards": []}}

    async def create_stream(self, name: str, shard_count: int) -> dict[str, Any]:
        if name in self.streams:
            raise KinesisFailure(409, f"Stream {name} already exists")
        self.streams[name] = []
        return {}

    async def delete_stream(self, name: str) -> dict[str, Any]:
        self._stream(name)
        del self.streams[name]
        return {}

    async def put_record(self, name: str, data: bytes, partition_key: str) -> dict[str, Any]:
        stream = self._stream(name)
        stream.append((data, partition_key))
        return {"ShardId": "shardId-000000000000", "SequenceNumber": str(len(stream))}

    async def put_records(self, name: str, records: Sequence[tuple[bytes, str]]) -> dict[str, Any]:
        stream = self._stream(name)
        answers = []
        for record in records:
            stream.append(record)
            answers.append({"ShardId": "shardId-000000000000", "SequenceNumber": str(len(stream))})
        return {"FailedRecordCount": 0, "Records": answers}

    async def health(self) -> dict[str, Any]:
        return {"reachable": not self.unreachable}
