"""The streaming job of spec §6: each Kinesis stream -> decoded, cleaned, deduplicated Delta table.

One query per table (pin, geo, user), each with its own checkpoint ``<lake>/_checkpoints/stream/<t>`` and its
own table ``<lake>/stream/<prefix>_<t>_table``. Payloads are decoded with the explicit ``SOURCE_SCHEMAS`` and
cleaned by the batch path's ``clean``. Exactly once across restarts comes from the sink, not the source: a
batch that was written but not yet checkpointed is replayed after a crash, so every write is idempotent.
Rows go in with an insert-only MERGE on ``ind`` (a re-sent post updates nothing, spec §4), and records that
are not valid JSON rows of the schema go to ``<lake>/stream/<prefix>_quarantine`` with an insert-only MERGE on
their Kinesis coordinates (stream, shard, sequence number). Nothing is dropped and no bad record stops a query.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery
from pyspark.sql.types import StringType, StructField, StructType, TimestampType

from include.pinterest.lake import Lake
from include.pinterest.settings import Settings
from include.pinterest.spark.cleaning import clean
from include.pinterest.spark.schemas import SILVER_SCHEMAS, SOURCE_KEYS, SOURCE_SCHEMAS
from include.pinterest.spark.session import on_databricks
from include.pinterest.streaming.status import StatusBoard

log = logging.getLogger(__name__)

CORRUPT_COLUMN = "_corrupt"
KINESIS_COLUMNS = ("stream", "shardId", "sequenceNumber", "partitionKey", "approximateArrivalTimestamp")

QUARANTINE_SCHEMA = StructType(
    [
        StructField("table", StringType()),
        StructField("stream", StringType()),
        StructField("shardId", StringType()),
        StructField("sequenceNumber", StringType()),
        StructField("partitionKey", StringType()),
        StructField("raw", StringType()),
        StructField("reason", StringType()),
        StructField("approximateArrivalTimestamp", TimestampType()),
        StructField("ingested_at", TimestampType()),
    ]
)

# Delta's optimistic concurrency: two queries quarantining at once conflict; the loser retries.
QUARANTINE_RETRIES = 5

# MERGE copies its source first unless told otherwise, to guard against a source that changes between reads.
# Ours is the batch, already cached and deterministic on recomputation (a replay reads the same records and
# the per-key choice has a total order), so the copy only costs: about a third of the MERGE's CPU here.
SESSION_CONF = {"spark.databricks.delta.merge.materializeSource": "none"}


@dataclass(frozen=True)
class SourceConfig:
    """How to reach the streams: Databricks' built-in source (role-based, no keys) or our Python source."""

    builtin: bool
    region: str
    initial_position: str = "trim_horizon"
    endpoint_url: str | None = None
    max_records_per_batch: int = 10_000
    metrics_dir: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings, metrics_dir: str | None = None, **overrides) -> SourceConfig:
        return cls(
            builtin=on_databricks(),
            region=settings.aws_region,
            endpoint_url=settings.kinesis_endpoint_url,
            metrics_dir=metrics_dir,
            **overrides,
        )

    def options(self, stream: str, table: str) -> dict[str, str]:
        options = {"streamName": stream, "region": self.region, "initialPosition": self.initial_position}
        if self.builtin:
            return options
        options["maxRecordsPerBatch"] = str(self.max_records_per_batch)
        if self.endpoint_url:
            options["endpointUrl"] = self.endpoint_url
        if self.metrics_dir:
            options["metricsPath"] = f"{self.metrics_dir}/{table}.json"
        return options


def configure_session(spark: SparkSession) -> None:
    """Session settings the job relies on (applied to Databricks' session too)."""
    for key, value in SESSION_CONF.items():
        spark.conf.set(key, value)


def register_local_source(spark: SparkSession) -> None:
    """Make ``format("kinesis")`` resolve to our Python source (Databricks has its own)."""
    from include.pinterest.streaming.kinesis_source import KinesisDataSource

    spark.dataSource.register(KinesisDataSource)


def read_stream(spark: SparkSession, stream: str, table: str, source: SourceConfig) -> DataFrame:
    reader = spark.readStream.format("kinesis")
    for key, value in source.options(stream, table).items():
        reader = reader.option(key, value)
    return reader.load()


# --- decoding: pure transforms over a batch of Kinesis rows --------------------------------------------------


def parse_payload(df: DataFrame, table: str) -> DataFrame:
    """``record`` = the payload parsed with the table's explicit schema; unparsable input lands in ``_corrupt``."""
    schema = StructType([*SOURCE_SCHEMAS[table].fields, StructField(CORRUPT_COLUMN, StringType())])
    options = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": CORRUPT_COLUMN}
    payload = F.col("data").cast("string")
    return df.withColumns(
        {
            "valid_utf8": F.is_valid_utf8(payload),
            "payload": payload,
            "record": F.from_json(payload, schema, options),
            # Null for invalid JSON and for valid JSON that is not an object (a number, an array...).
            "is_object": F.json_object_keys(payload).isNotNull(),
        }
    )


def quarantine_reason(table: str) -> Column:
    """Why a parsed record cannot become a row, or null when it can; checked from coarse to fine."""
    key = SOURCE_KEYS[table]
    return (
        F.when(~F.col("valid_utf8"), F.lit("payload is not UTF-8 text"))
        .when(~F.col("is_object"), F.lit("payload is not a JSON object"))
        .when(
            F.col(f"record.{CORRUPT_COLUMN}").isNotNull(),
            F.lit(f"payload does not match the {table} schema (a field has the wrong type)"),
        )
        .when(F.col(f"record.{key}").isNull(), F.lit(f"missing key {key}"))
    )


def classify(df: DataFrame, table: str) -> DataFrame:
    """Kinesis rows -> the same rows with ``record`` and ``reason`` (null for a good record)."""
    return df.transform(parse_payload, table).withColumn("reason", quarantine_reason(table))


def first_per_key(df: DataFrame, table: str) -> DataFrame:
    """One source row per key: the first to arrive (a re-sent post changes nothing), deterministic on replay."""
    key = f"record.{SOURCE_KEYS[table]}"
    order = Window.partitionBy(F.col(key)).orderBy(
        "approximateArrivalTimestamp", "shardId", F.length("sequenceNumber"), "sequenceNumber"
    )
    return df.withColumn("_rank", F.row_number().over(order)).where(F.col("_rank") == 1).drop("_rank")


def good_rows(classified: DataFrame, table: str) -> DataFrame:
    """Cleaned silver rows of the good records, one per ``ind``."""
    fields = [f.name for f in SOURCE_SCHEMAS[table].fields]
    source_rows = classified.where(F.col("reason").isNull()).transform(first_per_key, table)
    return clean(table, source_rows.select(*[F.col(f"record.{name}").alias(name) for name in fields]))


def quarantine_rows(classified: DataFrame, table: str) -> DataFrame:
    """Bad records with their raw payload (base64 when it is not text) and the reason."""
    raw = F.when(F.col("valid_utf8"), F.col("payload")).otherwise(F.concat(F.lit("base64:"), F.base64("data")))
    return classified.where(F.col("reason").isNotNull()).select(
        F.lit(table).alias("table"),
        *KINESIS_COLUMNS[:4],
        raw.alias("raw"),
        "reason",
        "approximateArrivalTimestamp",
        F.current_timestamp().alias("ingested_at"),
    ).select(*QUARANTINE_SCHEMA.fieldNames())


# --- writing ------------------------------------------------------------------------------------------------


def ensure_tables(spark: SparkSession, lake: Lake, tables: list[str]) -> None:
    """Create the Delta tables before any query starts, so concurrent first batches never race to create them."""
    from delta.tables import DeltaTable

    targets = {lake.stream_table(t): SILVER_SCHEMAS[t] for t in tables} | {lake.stream_quarantine: QUARANTINE_SCHEMA}
    for path, schema in targets.items():
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        # Every micro-batch adds small files; compacting them after commits keeps MERGE scans short.
        builder.property("delta.autoOptimize.autoCompact", "true").execute()


def merge_new_rows(spark: SparkSession, rows: DataFrame, path: str) -> int:
    """Insert rows whose ``ind`` is not in the table yet (a replayed batch inserts nothing); returns how many."""
    from delta.tables import DeltaTable

    target = DeltaTable.forPath(spark, path).alias("t")
    metrics = target.merge(rows.alias("s"), "t.ind = s.ind").whenNotMatchedInsertAll().execute().first()
    return int(metrics["num_inserted_rows"]) if metrics is not None else 0


_quarantine_lock = threading.Lock()


def merge_quarantine(spark: SparkSession, rows: DataFrame, path: str) -> None:
    """Insert bad records not quarantined yet (keyed by their Kinesis coordinates); retries write conflicts."""
    from delta.exceptions import (
        ConcurrentAppendException,
        ConcurrentTransactionException,
    )
    from delta.tables import DeltaTable

    condition = "t.stream = s.stream AND t.shardId = s.shardId AND t.sequenceNumber = s.sequenceNumber"
    for attempt in range(QUARANTINE_RETRIES):
        try:
            with _quarantine_lock:
                target = DeltaTable.forPath(spark, path).alias("t")
                target.merge(rows.alias("s"), condition).whenNotMatchedInsertAll().execute()
            return
        except (ConcurrentAppendException, ConcurrentTransactionException):
            if attempt == QUARANTINE_RETRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))


def batch_writer(
    table: str, lake: Lake, board: StatusBoard | None = None
) -> Callable[[DataFrame, int], None]:
    """The ``foreachBatch`` function of one table's query."""

    def write(batch: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        spark = batch.sparkSession
        classified = batch.transform(classify, table).persist()
        try:
            # The MERGE decodes the batch into the cache; counting the bad records then reads only the cache.
            inserted = merge_new_rows(spark, good_rows(classified, table), lake.stream_table(table))
            quarantined = classified.where(F.col("reason").isNotNull()).count()
            if quarantined:
                merge_quarantine(spark, quarantine_rows(classified, table), lake.stream_quarantine)
                log.warning("stream %s batch %d: %d records quarantined", table, batch_id, quarantined)
        finally:
            classified.unpersist()
        if board is not None:
            write_ms = int((time.monotonic() - started) * 1000)
            board.record_batch(table, batch_id, inserted=inserted, quarantined=quarantined, write_ms=write_ms)

    return write


def count_rows(spark: SparkSession, path: str) -> int:
    """Rows in a Delta table (answered from the log's file statistics, without reading data files)."""
    return spark.read.format("delta").load(path).count()


def query_name(prefix: str, table: str) -> str:
    return f"stream-{prefix}-{table}"


def start_query(
    spark: SparkSession,
    settings: Settings,
    table: str,
    source: SourceConfig,
    trigger_interval: str = "1 second",
    board: StatusBoard | None = None,
) -> StreamingQuery:
    """Start one table's query, unless a query of that name already runs in this session."""
    name = query_name(settings.topic_prefix, table)
    for active in spark.streams.active:
        if active.name == name:
            return active
    lake = Lake.of(settings)
    if board is not None:
        board.set_rows_in_table(table, count_rows(spark, lake.stream_table(table)))
    return (
        read_stream(spark, settings.stream(table), table, source)
        .writeStream.queryName(name)
        .foreachBatch(batch_writer(table, lake, board))
        .option("checkpointLocation", lake.stream_checkpoint(table))
        .trigger(processingTime=trigger_interval)
        .start()
    )


def stop_gracefully(query: StreamingQuery, timeout_s: float = 60.0) -> None:
    """Stop once the running batch is done (between batches, or when a new progress shows it finished).

    Spark cannot stop exactly between two back-to-back batches; a batch cut short is replayed on restart,
    and the idempotent writes make that harmless.
    """
    last = query.lastProgress
    running_after = last["batchId"] if last else -1
    deadline = time.monotonic() + timeout_s
    while query.isActive and query.status.get("isTriggerActive") and time.monotonic() < deadline:
        progress = query.lastProgress
        if progress is not None and progress["batchId"] > running_after:
            break
        time.sleep(0.2)
    query.stop()
