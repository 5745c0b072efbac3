"""The Python Kinesis source against a real Kinesis endpoint (kinesalite): offsets, shards, resharding, replay, restart."""

from __future__ import annotations

import json
import time

import pytest

from include.pinterest.streaming.kinesis_source import (
    SHARD_END,
    TRIM_HORIZON,
    KinesisDataSource,
    KinesisStreamReader,
    SourceOptions,
)

pytestmark = pytest.mark.integration


def reader_for(endpoint: str, stream: str, **options: str) -> KinesisStreamReader:
    # Spark hands options over lower-cased: the parser must not care.
    raw = {"streamname": stream, "endpointurl": endpoint, "region": "us-east-1", **options}
    return KinesisDataSource(raw).simpleStreamReader(schema=None)


def payloads(rows) -> list[dict]:
    return [json.loads(row[1]) for row in rows]


@pytest.fixture(autouse=True)
def dummy_credentials(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")


def records(first: int, count: int, keys: int = 7) -> list[tuple[str, bytes]]:
    return [(f"key-{i % keys}", json.dumps({"i": i}).encode()) for i in range(first, first + count)]


def test_options_are_validated():
    with pytest.raises(ValueError, match="streamName"):
        SourceOptions.parse({})
    with pytest.raises(ValueError, match="initialPosition"):
        SourceOptions.parse({"streamName": "s", "initialPosition": "earliest-ish"})
    parsed = SourceOptions.parse({"STREAMNAME": "s", "maxRecordsPerBatch": "5"})
    assert (parsed.stream_name, parsed.max_records_per_batch, parsed.initial_position) == ("s", 5, "trim_horizon")


def test_empty_stream_gives_no_rows_and_keeps_the_offset(kinesis_endpoint, make_stream):
    stream = make_stream(shards=2)
    reader = reader_for(kinesis_endpoint, stream)
    start = reader.initialOffset()
    assert set(start.values()) == {TRIM_HORIZON} and len(start) == 2
    rows, end = reader.read(start)
    assert list(rows) == []
    # Same offset: Spark plans no batch, and nothing fails.
    assert end == start


def test_reads_every_shard_once_with_the_kinesis_columns(kinesis_endpoint, make_stream, put_records):
    stream = make_stream(shards=3)
    put_records(stream, records(0, 60))
    reader = reader_for(kinesis_endpoint, stream)
    rows, offset = reader.read(reader.initialOffset())
    rows = list(rows)
    assert sorted(p["i"] for p in payloads(rows)) == list(range(60))
    _partition_key, data, name, shard, sequence, arrival = rows[0]
    assert isinstance(data, bytes) and name == stream and shard in offset and sequence.isdigit()
    assert arrival.tzinfo is not None
    assert len({r[3] for r in rows}) == 3, "the records should spread over the three shards"
    # Offsets are the last sequence number read in each shard.
    for shard_id, position in offset.items():
        assert position == max((r[4] for r in rows if r[3] == shard_id), key=int)
    more, again = reader.read(offset)
    assert list(more) == [] and again == offset


def test_max_records_per_batch_bounds_a_read_and_the_next_read_continues(kinesis_endpoint, make_stream, put_records):
    stream = make_stream(shards=2)
    put_records(stream, records(0, 50))
    reader = reader_for(kinesis_endpoint, stream, maxrecordsperbatch="20")
    offset, seen = reader.initialOffset(), []
    for _ in range(5):
        rows, offset = reader.read(offset)
        rows = list(rows)
        assert len(rows) <= 20
        seen += payloads(rows)
    assert sorted(p["i"] for p in seen) == list(range(50)), "no record lost or read twice across reads"


def test_replay_between_offsets_returns_exactly_the_batch(kinesis_endpoint, make_stream, put_records):
    stream = make_stream(shards=2)
    put_records(stream, records(0, 30))
    reader = reader_for(kinesis_endpoint, stream, maxrecordsperbatch="12")
    start = reader.initialOffset()
    first, middle = reader.read(start)
    second, end = reader.read(middle)
    expected = sorted(list(first) + list(second), key=lambda r: (r[3], int(r[4])))
    # A restarted query has a fresh reader (new planner process) and only the checkpointed offsets.
    replayed = reader_for(kinesis_endpoint, stream).readBetweenOffsets(start, end)
    assert sorted(replayed, key=lambda r: (r[3], int(r[4]))) == expected


def test_restart_from_checkpointed_offset_reads_only_new_records(kinesis_endpoint, make_stream, put_records):
    stream = make_stream(shards=2)
    put_records(stream, records(0, 20))
    reader = reader_for(kinesis_endpoint, stream)
    _, committed = reader.read(reader.initialOffset())
    put_records(stream, records(20, 15))
    restarted = reader_for(kinesis_endpoint, stream)
    rows, _ = restarted.read(json.loads(json.dumps(committed)))
    assert sorted(p["i"] for p in payloads(rows)) == list(range(20, 35))


def test_resharding_reads_parents_to_the_end_then_children(kinesis, kinesis_endpoint, make_stream, put_records):
    stream = make_stream(shards=1)
    put_records(stream, records(0, 40))
    reader = reader_for(kinesis_endpoint, stream, maxrecordsperbatch="15")
    offset = reader.initialOffset()
    rows, offset = reader.read(offset)
    collected = list(rows)
    # Split the one shard at the middle of the hash key range (what UNIFORM_SCALING to 2 shards does).
    kinesis.split_shard(StreamName=stream, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**127))
    deadline = time.monotonic() + 30
    while kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    put_records(stream, records(40, 40))
    for _ in range(10):
        rows, offset = reader.read(offset)
        collected += list(rows)
    assert sorted(p["i"] for p in payloads(collected)) == list(range(80)), "every record exactly once"
    parent = "shardId-000000000000"
    assert offset[parent] == SHARD_END and len(offset) == 3
    # Per partition key, the order of writing is kept across the parent/child boundary.
    for key in {r[0] for r in collected}:
        order = [json.loads(r[1])["i"] for r in collected if r[0] == key]
        assert order == sorted(order), key


def test_latest_skips_older_records_and_is_stable_across_restarts(kinesis_endpoint, make_stream, put_records):
    stream = make_stream(shards=2)
    put_records(stream, records(0, 10))
    # Kinesis compares AT_TIMESTAMP at millisecond precision, endpoints at coarser: keep the records seconds apart.
    time.sleep(2.1)
    reader = reader_for(kinesis_endpoint, stream, initialposition="latest")
    start = reader.initialOffset()
    time.sleep(2.1)
    put_records(stream, records(10, 10))
    rows, end = reader.read(start)
    assert sorted(p["i"] for p in payloads(rows)) == list(range(10, 20))
    replayed = reader_for(kinesis_endpoint, stream).readBetweenOffsets(start, end)
    assert sorted(p["i"] for p in payloads(replayed)) == list(range(10, 20))


def test_metrics_file_reports_lag_per_shard(kinesis_endpoint, make_stream, put_records, tmp_path):
    stream = make_stream(shards=2)
    put_records(stream, records(0, 30))
    metrics = tmp_path / "metrics" / "pin.json"
    reader = reader_for(kinesis_endpoint, stream, metricspath=str(metrics), maxrecordsperbatch="10")
    _, offset = reader.read(reader.initialOffset())
    report = json.loads(metrics.read_text())
    assert report["stream"] == stream and report["caught_up"] is False
    for _ in range(5):
        _, offset = reader.read(offset)
    report = json.loads(metrics.read_text())
    assert report["caught_up"] is True and report["max_millis_behind_latest"] == 0
