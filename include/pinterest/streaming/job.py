"""The streaming job of spec §6: each Kinesis stream -> decoded, cleaned, deduplicated Delta table.

One query per table (pin, geo, user), each with its own checkpoint (``Lake.stream_checkpoint``) and its own
table (``Lake.stream_table``): a stream can be stopped, restarted or replayed alone, and no checkpoint is shared
(spec §6, §7). Payloads are decoded with the explicit ``SOURCE_SCHEMAS`` and cleaned by the batch path's
``clean``. Exactly once across restarts comes from the sink, not the source: a batch that was written but not
yet checkpointed is replayed after a crash, so every write is idempotent (see ``StreamTableWriter``). A re-sent
post inserts nothing (spec §4), and records that are not valid JSON rows of the schema go to the quarantine
table (``Lake.stream_quarantine``) once each, with the reason. Nothing is dropped and no bad record stops a query.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
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
# The struct column ``prepare`` carries each record's key, verdict and Kinesis coordinates in.
KINESIS = "_kinesis"

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

# Compacting inside a commit (auto compaction) stalls the batch that triggers it by seconds; small files are
# compacted off the commit path instead (``compact_small_files``, every ``COMPACT_INTERVAL_S``). A Delta checkpoint
# is written by the commit that reaches the interval, and stalls that batch by seconds too: every 100th commit
# instead of every 10th (readers replay at most 99 small JSON commits; appends read the state from the .crc files).
STREAM_TABLE_PROPERTIES = {"delta.autoOptimize.autoCompact": "false", "delta.checkpointInterval": "100"}
COMPACT_INTERVAL_S = 900.0
# Files from this size up are left alone by compaction, so it rewrites the recent small files, not the table.
COMPACTED_FILE_BYTES = 32 * 2**20


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


def register_local_source(spark: SparkSession) -> None:
    """Make ``format("kinesis")`` resolve to our Python source (Databricks has its own)."""
    from include.pinterest.streaming.kinesis_source import KinesisDataSource

    spark.dataSource.register(KinesisDataSource)


def read_stream(spark: SparkSession, stream: str, table: str, source: SourceConfig) -> DataFrame:
    reader = spark.readStream.format("kinesis")
    for key, value in source.options(stream, table).items():
        reader = reader.option(key, value)
    return reader.load()


# --- decoding: pure transforms, applied once to the streaming DataFrame -----------------------------------------


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


def prepare(kinesis_rows: DataFrame, table: str) -> DataFrame:
    """Kinesis rows -> the silver columns of every record plus ``_kinesis``: its key, reason and coordinates.

    Applied to the streaming DataFrame, so Spark analyses this plan once per query instead of once per batch
    (building it costs more CPU than running it on a small batch). Cleaning never drops a row, so a bad record
    simply has null silver columns; the raw payload is kept for bad records only (base64 when it is not text).
    """
    classified = kinesis_rows.transform(classify, table)
    raw = F.when(F.col("valid_utf8"), F.col("payload")).otherwise(F.concat(F.lit("base64:"), F.base64("data")))
    kinesis = F.struct(
        F.col(f"record.{SOURCE_KEYS[table]}").alias("key"),
        "reason",
        *KINESIS_COLUMNS,
        F.when(F.col("reason").isNotNull(), raw).alias("raw"),
    )
    fields = [f.name for f in SOURCE_SCHEMAS[table].fields]
    source = classified.select(*[F.col(f"record.{name}").alias(name) for name in fields], kinesis.alias(KINESIS))
    return clean(table, source, keep=[KINESIS])


def record_id() -> Column:
    """A record's identity in its stream: shard and sequence number."""
    return F.concat_ws("/", f"{KINESIS}.shardId", f"{KINESIS}.sequenceNumber")


def silver_rows(prepared: DataFrame, table: str, record_ids: list[str]) -> DataFrame:
    """The silver rows of the chosen records.

    The ids go in as ``lit`` columns: ``isin`` given plain values resolves PySpark's ``functions`` class once per
    value through py4j's package imports, a class-path search of milliseconds each (most of a batch's cost).
    """
    columns = SILVER_SCHEMAS[table].fieldNames()
    return prepared.where(record_id().isin(*map(F.lit, record_ids))).select(*columns)


def quarantine_rows(prepared: DataFrame, table: str) -> DataFrame:
    """Bad records with their raw payload and the reason, in ``QUARANTINE_SCHEMA``."""
    return prepared.where(F.col(f"{KINESIS}.reason").isNotNull()).select(
        F.lit(table).alias("table"),
        *[F.col(f"{KINESIS}.{name}").alias(name) for name in ("stream", "shardId", "sequenceNumber", "partitionKey")],
        F.col(f"{KINESIS}.raw").alias("raw"),
        F.col(f"{KINESIS}.reason").alias("reason"),
        F.col(f"{KINESIS}.approximateArrivalTimestamp").alias("approximateArrivalTimestamp"),
        F.current_timestamp().alias("ingested_at"),
    )


@dataclass(frozen=True)
class Candidate:
    """What the writer needs of one record to choose the rows to insert."""

    key: int | None
    good: bool
    arrival: datetime
    shard_id: str
    sequence_number: str

    @property
    def record_id(self) -> str:
        return f"{self.shard_id}/{self.sequence_number}"

    @property
    def arrival_order(self) -> tuple:
        """Arrival, then Kinesis position: a total order, so a replay chooses the same record."""
        return (self.arrival, self.shard_id, len(self.sequence_number), self.sequence_number)


def candidates(prepared: DataFrame) -> list[Candidate]:
    """The batch's one Spark action before writing: keys, verdicts and positions (a few bytes a record)."""
    rows = prepared.select(
        f"{KINESIS}.key",
        F.col(f"{KINESIS}.reason").isNull().alias("good"),
        f"{KINESIS}.approximateArrivalTimestamp",
        f"{KINESIS}.shardId",
        f"{KINESIS}.sequenceNumber",
    ).collect()
    return [Candidate(*row) for row in rows]


def first_new_records(found: list[Candidate], stored: set[int]) -> dict[int, str]:
    """``key -> record id`` of the first good record of each key not stored yet (a re-sent post changes nothing)."""
    first: dict[int, Candidate] = {}
    for candidate in found:
        if not candidate.good or candidate.key in stored:
            continue
        seen = first.get(candidate.key)
        if seen is None or candidate.arrival_order < seen.arrival_order:
            first[candidate.key] = candidate
    return {key: candidate.record_id for key, candidate in first.items()}


# --- writing ------------------------------------------------------------------------------------------------


def ensure_tables(spark: SparkSession, lake: Lake, tables: list[str]) -> None:
    """Create the Delta tables before any query starts, so concurrent first batches never race to create them.

    Tables get ``STREAM_TABLE_PROPERTIES``; an older table that differs is altered (one metadata commit, once).
    """
    from delta.tables import DeltaTable

    targets = {lake.stream_table(t): SILVER_SCHEMAS[t] for t in tables} | {lake.stream_quarantine: QUARANTINE_SCHEMA}
    for path, schema in targets.items():
        builder = DeltaTable.createIfNotExists(spark).location(path).addColumns(schema)
        for key, value in STREAM_TABLE_PROPERTIES.items():
            builder = builder.property(key, value)
        builder.execute()
        properties = DeltaTable.forPath(spark, path).detail().first()["properties"]
        stale = {k: v for k, v in STREAM_TABLE_PROPERTIES.items() if properties.get(k) != v}
        if stale:
            assignments = ", ".join(f"'{k}' = '{v}'" for k, v in stale.items())
            spark.sql(f"ALTER TABLE delta.`{path}` SET TBLPROPERTIES ({assignments})")


def compact_small_files(spark: SparkSession, lake: Lake, tables: list[str]) -> None:
    """Bin-pack the small files the micro-batches left in the stream tables (Delta OPTIMIZE, no data change).

    Runs beside the queries: their blind appends do not conflict with a compaction, so no batch waits for it.
    """
    from delta.tables import DeltaTable

    spark.conf.set("spark.databricks.delta.optimize.minFileSize", str(COMPACTED_FILE_BYTES))
    for table in tables:
        DeltaTable.forPath(spark, lake.stream_table(table)).optimize().executeCompaction()


def stored_keys(spark: SparkSession, path: str) -> set[int]:
    """Every ``ind`` of a stream table: read once when its query starts, then kept up to date by the writer."""
    return {row["ind"] for row in spark.read.format("delta").load(path).select("ind").collect()}


def quarantine_app_id(batch: DataFrame) -> str:
    """The running query's id (kept in its checkpoint): Delta's idempotent-write key for its quarantine appends.

    A new checkpoint means a new id, so its batch ids, which start again at 0, are never taken for replays. Spark
    sets the id as a local property of the query's thread, which ``foreachBatch`` runs on in a classic (py4j)
    session: local runs and the Databricks job's cluster (no Spark Connect access mode).
    """
    query_id = batch.sparkSession.sparkContext.getLocalProperty("sql.streaming.queryId")
    if not query_id:
        raise RuntimeError("quarantine writes need the streaming query's id (call the writer from foreachBatch)")
    return f"{query_id}-quarantine"


@dataclass
class BatchReport:
    """What one micro-batch did, with the wall time (and CPU time, when measured) of each phase in ms."""

    batch_id: int
    records: int = 0
    inserted: int = 0
    quarantined: int = 0
    wall_ms: dict[str, int] = field(default_factory=dict)
    cpu_ms: dict[str, int] = field(default_factory=dict)


class StreamTableWriter:
    """The ``foreachBatch`` function of one table's query (batches of ``prepare``): append new rows, quarantine.

    The table has exactly one writer (the driver's per-table lock, ``max_concurrent_runs`` 1 on Databricks),
    so the keys it holds are known without reading it again: ``stored_keys`` once at query start, then what
    each batch appended. A batch therefore costs the same however large the table grows: one small Spark action
    (``candidates``), one blind append of the first record of each new key and, when some records are bad, one
    quarantine append; no MERGE, no scan of the table. Exactly once across a crash: a replayed batch finds its
    keys stored (they are read again at restart) and inserts nothing; its quarantine append is skipped by Delta's
    idempotent writes (``txnAppId`` = the query's id, ``txnVersion`` = the batch id). Databricks runs this same
    writer.

    :param cpu_clock: seconds of CPU used so far by the whole job, when the caller can measure it (benchmarks).
    """

    def __init__(
        self,
        table: str,
        lake: Lake,
        board: StatusBoard | None = None,
        cpu_clock: Callable[[], float] | None = None,
    ) -> None:
        self.table = table
        self.path = lake.stream_table(table)
        self.quarantine_path = lake.stream_quarantine
        self.board = board
        self.cpu_clock = cpu_clock
        self.stored: set[int] | None = None
        self.last: BatchReport | None = None

    def load(self, spark: SparkSession) -> int:
        """Read the keys the table holds (at query start); returns how many."""
        self.stored = stored_keys(spark, self.path)
        return len(self.stored)

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        if self.stored is None:
            self.load(batch.sparkSession)
        report = BatchReport(batch_id)
        batch.persist()
        try:
            with self._phase(report, "decode"):
                found = candidates(batch)
            chosen = first_new_records(found, self.stored)
            report.records = len(found)
            report.quarantined = sum(not c.good for c in found)
            if chosen:
                with self._phase(report, "write"):
                    silver_rows(batch, self.table, list(chosen.values())).write.format("delta").mode("append").save(
                        self.path
                    )
                self.stored.update(chosen)
                report.inserted = len(chosen)
            if report.quarantined:
                with self._phase(report, "quarantine"):
                    quarantine_rows(batch, self.table).write.format("delta").mode("append").option(
                        "txnAppId", quarantine_app_id(batch)
                    ).option("txnVersion", batch_id).save(self.quarantine_path)
                log.warning("stream %s batch %d: %d records quarantined", self.table, batch_id, report.quarantined)
        finally:
            batch.unpersist()
        self.last = report
        if self.board is not None:
            self.board.record_batch(
                self.table, batch_id, report.inserted, report.quarantined, report.wall_ms, report.cpu_ms
            )

    @contextmanager
    def _phase(self, report: BatchReport, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), self.cpu_clock() if self.cpu_clock else None
        yield
        report.wall_ms[name] = int((time.perf_counter() - wall) * 1000)
        if cpu is not None:
            report.cpu_ms[name] = int((self.cpu_clock() - cpu) * 1000)


def query_name(prefix: str, table: str) -> str:
    return f"stream-{prefix}-{table}"


def start_query(
    spark: SparkSession,
    settings: Settings,
    table: str,
    source: SourceConfig,
    trigger_interval: str = "1 second",
    board: StatusBoard | None = None,
    writer: StreamTableWriter | None = None,
) -> StreamingQuery:
    """Start one table's query, unless a query of that name already runs in this session.

    :param writer: the ``foreachBatch`` function; a ``StreamTableWriter`` of the table by default (tests pass
        one that fails on purpose).
    """
    name = query_name(settings.topic_prefix, table)
    for active in spark.streams.active:
        if active.name == name:
            return active
    lake = Lake.of(settings)
    writer = writer or StreamTableWriter(table, lake, board)
    rows = writer.load(spark)
    if board is not None:
        board.set_rows_in_table(table, rows)
    return (
        read_stream(spark, settings.stream(table), table, source)
        .transform(prepare, table)
        .writeStream.queryName(name)
        .foreachBatch(writer)
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
