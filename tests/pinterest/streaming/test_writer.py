"""The stream table writer: what a blind append instead of a MERGE could break, checked against real Delta tables
and, for the crash between write and checkpoint, a real query replaying its batch from the checkpoint."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from include.pinterest.lake import Lake
from include.pinterest.settings import Settings
from include.pinterest.streaming.job import (
    Candidate,
    SourceConfig,
    StreamTableWriter,
    compact_small_files,
    ensure_tables,
    first_new_records,
    prepare,
    register_local_source,
    start_query,
)
from tests.pinterest.streaming.conftest import DUMMY_AWS
from tests.pinterest.streaming.test_job import KINESIS_SCHEMA, TABLES, source_row

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_first_new_record_of_each_key_is_chosen():
    found = [
        Candidate(1, True, T0 + timedelta(seconds=1), "shardId-1", "900"),
        Candidate(1, True, T0, "shardId-2", "50"),
        Candidate(1, True, T0, "shardId-1", "1000"),
        Candidate(2, True, T0, "shardId-0", "7"),
        Candidate(3, False, T0, "shardId-0", "8"),
        Candidate(None, False, T0, "shardId-0", "9"),
    ]
    assert first_new_records(found, stored=set()) == {1: "shardId-1/1000", 2: "shardId-0/7"}
    assert first_new_records(found, stored={2}) == {1: "shardId-1/1000"}, "a stored key inserts nothing"


@pytest.fixture(scope="module")
def spark():
    from include.pinterest.streaming.driver import build_session

    return build_session()


def kinesis_batch(spark, table: str, inds: list[int], bad: list[bytes] = (), first_sequence: int = 0):
    """A micro-batch as the source delivers it, already through ``prepare`` as the query applies it."""
    payloads = [json.dumps(source_row(table, i)).encode() for i in inds] + list(bad)
    rows = [
        (str(n), payload, "s", "shardId-0", str(10**20 + first_sequence + n), T0) for n, payload in enumerate(payloads)
    ]
    return spark.createDataFrame(rows, KINESIS_SCHEMA).transform(prepare, table)


def counts(spark, lake: Lake, table: str) -> tuple[int, int, int]:
    rows = spark.read.format("delta").load(lake.stream_table(table))
    quarantine = spark.read.format("delta").load(lake.stream_quarantine)
    return rows.count(), rows.select("ind").distinct().count(), quarantine.where(f"table = '{table}'").count()


@pytest.fixture
def lake(spark, tmp_path):
    lake = Lake(str(tmp_path / "lake"), "w")
    ensure_tables(spark, lake, list(TABLES))
    # The writer keys quarantine appends by the running query's id, as foreachBatch would see it.
    spark.sparkContext.setLocalProperty("sql.streaming.queryId", str(uuid.uuid4()))
    yield lake
    spark.sparkContext.setLocalProperty("sql.streaming.queryId", None)


@pytest.mark.spark
@pytest.mark.parametrize("table", TABLES)
def test_the_same_ind_in_two_micro_batches_counts_once(spark, lake, table):
    writer = StreamTableWriter(table, lake)
    writer(kinesis_batch(spark, table, [1, 2, 3]), 0)
    writer(kinesis_batch(spark, table, [3, 4, 1, 4], first_sequence=10), 1)
    assert (writer.last.inserted, writer.last.records) == (1, 4)
    assert counts(spark, lake, table)[:2] == (4, 4)
    # A writer started later (a restart) knows the stored keys from the table itself.
    StreamTableWriter(table, lake)(kinesis_batch(spark, table, [2, 5], first_sequence=20), 2)
    assert counts(spark, lake, table)[:2] == (5, 5)


@pytest.mark.spark
def test_a_replayed_batch_inserts_nothing_and_quarantines_nothing_again(spark, lake):
    bad = [b"not json", b'{"ind": "seven"}']
    StreamTableWriter("geo", lake)(kinesis_batch(spark, "geo", [1, 2], bad), 0)
    assert counts(spark, lake, "geo") == (2, 2, 2)
    # After a crash between the writes and the checkpoint, a new writer gets the same batch again.
    replay = StreamTableWriter("geo", lake)
    replay(kinesis_batch(spark, "geo", [1, 2], bad), 0)
    assert (replay.last.inserted, replay.last.quarantined) == (0, 2)
    assert counts(spark, lake, "geo") == (2, 2, 2), "nothing doubled"
    # The next batch's bad records are new ones: they are quarantined.
    replay(kinesis_batch(spark, "geo", [3], [b"[1]"], first_sequence=10), 1)
    assert counts(spark, lake, "geo") == (3, 3, 3)


class CrashAfterWriting(StreamTableWriter):
    """Writes the batch, then fails before Spark can checkpoint it: the query dies, the batch stays pending."""

    def __call__(self, batch, batch_id: int) -> None:
        super().__call__(batch, batch_id)
        raise RuntimeError("crash between write and checkpoint")


@pytest.mark.spark
@pytest.mark.integration
def test_a_crash_between_write_and_checkpoint_replays_the_batch_without_doubles(
    spark, kinesis, kinesis_endpoint, make_stream, put_records, tmp_path, monkeypatch
):
    # The source's Python worker gets its environment from the data source's registration, not from os.environ.
    monkeypatch.setattr(spark.sparkContext, "environment", {**spark.sparkContext.environment, **DUMMY_AWS})
    register_local_source(spark)
    prefix = f"w{uuid.uuid4().hex[:6]}"
    settings = Settings(topic_prefix=prefix, lake_root=str(tmp_path / "lake"), kinesis_endpoint_url=kinesis_endpoint)
    make_stream(shards=2, name=settings.stream("user"))
    lake = Lake.of(settings)
    ensure_tables(spark, lake, ["user"])
    records = [(str(i), json.dumps(source_row("user", i)).encode()) for i in [*range(20), 3, 4]]
    put_records(settings.stream("user"), [*records, ("bad", b"not json")])
    source = SourceConfig.from_settings(settings)

    crashing = start_query(spark, settings, "user", source, writer=CrashAfterWriting("user", lake))
    with pytest.raises(Exception, match="crash between write and checkpoint"):
        crashing.awaitTermination(300)
    assert counts(spark, lake, "user") == (20, 20, 1), "the batch was written before the crash"

    query = start_query(spark, settings, "user", source)
    try:
        query.processAllAvailable()
        assert query.lastProgress["batchId"] == 0, "the pending batch was replayed"
    finally:
        query.stop()
    assert counts(spark, lake, "user") == (20, 20, 1)


@pytest.mark.spark
def test_compaction_bin_packs_the_batch_files_and_keeps_every_row(spark, lake):
    from delta.tables import DeltaTable

    writer = StreamTableWriter("pin", lake)
    for batch_id in range(3):
        writer(
            kinesis_batch(spark, "pin", [batch_id * 10 + i for i in range(5)], first_sequence=batch_id * 10), batch_id
        )
    table = DeltaTable.forPath(spark, lake.stream_table("pin"))
    assert table.detail().first()["numFiles"] >= 3, "at least one file a batch"
    compact_small_files(spark, lake, ["pin"])
    assert table.detail().first()["numFiles"] == 1
    assert counts(spark, lake, "pin")[:2] == (15, 15)
