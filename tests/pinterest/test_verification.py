"""The reconciliation's own logic: which bronze objects can hold a run's records, which Kafka records are posts, and
the run summary's shape (as the pipeline page reads it)."""

from __future__ import annotations

import json

import pytest

from include.pinterest.verification import ReconciliationError, bronze_keys_from, kafka_inds, run_summary


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


def _summary(stream_tables: dict[str, set[int]], **extra):
    everywhere = {t: {1, 2} for t in ("pin", "geo", "user")}
    return run_summary(
        accepted={1, 2},
        stream_accepted={7},
        kafka=everywhere,
        bronze=everywhere,
        silver=everywhere,
        stream_tables=stream_tables,
        api={"batch": {"sent": 2, "accepted": 2, "extra": "dropped"}, "stream": {}},
        **extra,
    )


def test_the_summary_carries_stages_stream_rows_lag_and_api_figures():
    summary = _summary({t: {5, 6, 7} for t in ("pin", "geo", "user")}, stream_lag_ms={"pin": 0, "geo": None})
    assert summary["stages"]["bronze.geo"] == {"posts": 2, "missing_accepted_posts": 0}
    assert summary["stream"]["stages"]["stream.user"] == {"posts": 3, "missing_accepted_posts": 0}
    assert summary["stream"]["millis_behind_latest"] == {"pin": 0, "geo": None}
    assert set(summary["api"]) == {"batch"} and "extra" not in summary["api"]["batch"]


def test_a_stream_table_missing_a_post_fails_naming_it():
    with pytest.raises(ReconciliationError, match=r"stream\.geo: 1 of 1 accepted posts missing"):
        _summary({"pin": {7}, "geo": set(), "user": {7}})
