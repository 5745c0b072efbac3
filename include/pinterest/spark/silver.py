"""Bronze JSON lines -> silver Delta tables, incrementally and exactly once.

Each table is read by Spark's file stream source with its own checkpoint and ``availableNow``, so a run
processes only the files that landed since the previous run. Each micro-batch is cleaned, deduplicated by
``ind`` and merged insert-only into silver: a re-sent post updates nothing, and a batch replayed after a crash
inserts nothing twice. Rows without a usable integer key go to the quarantine table with their raw JSON.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from include.pinterest.lake import Lake
from include.pinterest.spark.cleaning import clean
from include.pinterest.spark.schemas import QUARANTINE_SCHEMA, SILVER_SCHEMAS, SOURCE_SCHEMAS
from include.pinterest.tables import SOURCE_KEYS

CORRUPT_RECORD = "_corrupt_record"
REASON_MALFORMED_KEY = "key missing or not an integer"


def bronze_read_schema(table: str) -> StructType:
    """The source schema plus a column that keeps the raw line of any record Spark could not fully parse."""
    return StructType([*SOURCE_SCHEMAS[table].fields, StructField(CORRUPT_RECORD, StringType(), True)])


def read_bronze(spark: SparkSession, lake: Lake, table: str) -> DataFrame:
    """All bronze records of one table as a batch DataFrame (for reconciliation and benchmarks)."""
    return (
        spark.read.schema(bronze_read_schema(table))
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .json(lake.bronze_glob(table))
    )


def with_raw_json(df: DataFrame, table: str) -> DataFrame:
    """``raw``: the line as it arrived when Spark kept it, else the JSON of the parsed fields."""
    source_columns = [f.name for f in SOURCE_SCHEMAS[table].fields]
    return df.withColumn(
        "raw", F.coalesce(F.col(CORRUPT_RECORD), F.to_json(F.struct(*[F.col(c) for c in source_columns])))
    )


def quarantine_rows(df: DataFrame, table: str, batch_id: int) -> DataFrame:
    """Rows that fail hard validation (no integer key), in the quarantine schema."""
    key = SOURCE_KEYS[table]
    return (
        df.where(F.col(key).isNull())
        .transform(with_raw_json, table)
        .select(
            F.lit(table).alias("table"),
            F.col("raw"),
            F.lit(REASON_MALFORMED_KEY).alias("reason"),
            F.lit(batch_id).cast("long").alias("batch_id"),
            F.current_timestamp().alias("quarantined_at"),
        )
    )


def keyed_rows(df: DataFrame, table: str) -> DataFrame:
    """Rows that pass hard validation, with only the source columns."""
    key = SOURCE_KEYS[table]
    return df.where(F.col(key).isNotNull()).select(*[f.name for f in SOURCE_SCHEMAS[table].fields])


def dedupe_by_key(df: DataFrame) -> DataFrame:
    """One row per ``ind``; among differing copies the first by the values of all columns wins (deterministic)."""
    others = [F.col(c).asc_nulls_last() for c in df.columns if c != "ind"]
    window = Window.partitionBy("ind").orderBy(*others)
    return df.withColumn("_copy", F.row_number().over(window)).where(F.col("_copy") == 1).drop("_copy")


def ensure_delta_table(spark: SparkSession, path: str, schema: StructType) -> None:
    """Create an empty Delta table at ``path`` unless one exists (mode ``ignore`` leaves an existing one alone)."""
    spark.createDataFrame([], schema).write.format("delta").mode("ignore").save(path)


@dataclass
class BronzeRun:
    """What one ``bronze_to_silver`` run did for one table."""

    table: str
    batches: int = 0
    input_rows: int = 0
    input_files: int = 0
    quarantined_rows: int = 0


def _batch_writer(spark: SparkSession, lake: Lake, table: str, run: BronzeRun):
    from delta.tables import DeltaTable

    def write_batch(batch: DataFrame, batch_id: int) -> None:
        # Parse each file once: the cached batch serves the counts, the quarantine and the merge.
        staged = batch.persist()
        try:
            stats = staged.agg(
                F.count(F.lit(1)).alias("rows"),
                F.countDistinct("_file").alias("files"),
                F.sum(F.when(F.col(SOURCE_KEYS[table]).isNull(), 1).otherwise(0)).alias("unkeyed"),
            ).first()
            run.batches += 1
            run.input_rows += stats["rows"]
            run.input_files += stats["files"]
            if stats["unkeyed"]:
                # txnAppId/txnVersion make the append idempotent if this batch is replayed after a crash.
                (
                    quarantine_rows(staged, table, batch_id)
                    .write.format("delta")
                    .mode("append")
                    .option("txnAppId", f"batch-quarantine-{table}")
                    .option("txnVersion", batch_id)
                    .save(lake.quarantine)
                )
                run.quarantined_rows += stats["unkeyed"]
            cleaned = keyed_rows(staged, table).transform(lambda df: clean(table, df)).transform(dedupe_by_key)
            (
                DeltaTable.forPath(spark, lake.silver(table))
                .alias("silver")
                .merge(cleaned.alias("batch"), "silver.ind = batch.ind")
                .whenNotMatchedInsertAll()
                .execute()
            )
        finally:
            staged.unpersist()

    return write_batch


def bronze_to_silver(
    spark: SparkSession, lake: Lake, table: str, max_files_per_trigger: int | None = None
) -> BronzeRun:
    """Process every bronze file of ``table`` not yet seen by its checkpoint, then stop."""
    ensure_delta_table(spark, lake.silver(table), SILVER_SCHEMAS[table])
    ensure_delta_table(spark, lake.quarantine, QUARANTINE_SCHEMA)
    reader = (
        spark.readStream.schema(bronze_read_schema(table))
        .option("columnNameOfCorruptRecord", CORRUPT_RECORD)
        .option("mode", "PERMISSIVE")
    )
    if max_files_per_trigger:
        reader = reader.option("maxFilesPerTrigger", max_files_per_trigger)
    run = BronzeRun(table)
    query = (
        reader.json(lake.bronze_glob(table))
        .withColumn("_file", F.col("_metadata.file_path"))
        .writeStream.queryName(f"bronze_to_silver_{table}")
        .foreachBatch(_batch_writer(spark, lake, table, run))
        .option("checkpointLocation", lake.checkpoint(table))
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    if query.exception() is not None:
        raise RuntimeError(f"bronze_to_silver {table} failed: {query.exception()}")
    return run
