"""The reconciliation's own logic: which bronze objects can hold a run's records, and which Kafka records are posts."""

from __future__ import annotations

import json

from include.pinterest.verification import bronze_keys_from, kafka_inds


def _key(partition: int, offset: int) -> str:
    return f"topics/pinterest.pin/year=2026/month=12/day=02/partition={partition}/pinterest.pin+{partition}+{offset:010d}.json"


def test_bronze_objects_from_the_one_holding_the_first_new_offset_on():
    keys = [_key(0, 0), _key(0, 100), _key(0, 200), _key(1, 0), "topics/pinterest.pin/"]
    assert bronze_keys_from(keys, {0: 150, 1: 0}) == sorted([_key(0, 100), _key(0, 200), _key(1, 0)])


class _Message:
    def __init__(self, partition: int, offset: int, value: bytes):
        self._partition, self._offset, self._value = partition, offset, value

    def error(self):
        return None

    def partition(self):
        return self._partition

    def offset(self):
        return self._offset

    def value(self):
        return self._value


class _Consumer:
    """One partition holding ``values`` from offset 0 (the confluent-kafka calls kafka_inds makes)."""

    def __init__(self, values: list[bytes]):
        self.values, self.served = values, False

    def get_watermark_offsets(self, _partition, timeout):
        return 0, len(self.values)

    def assign(self, _partitions):
        pass

    def unassign(self):
        pass

    def consume(self, _n, timeout):
        if self.served:
            return []
        self.served = True
        return [_Message(0, offset, value) for offset, value in enumerate(self.values)]


def test_kafka_records_that_are_not_posts_are_skipped_not_fatal():
    """A record another producer wrote (the sink dead-letters it) cannot be an accepted post."""
    values = [
        json.dumps({"index": 7}).encode(),
        b"not json {",
        b"[1, 2]",
        b'{"other": 1}',
        json.dumps({"ind": 9}).encode(),
    ]
    assert kafka_inds(_Consumer(values), "pinterest.pin", {0: 0}) == {7, 9}
