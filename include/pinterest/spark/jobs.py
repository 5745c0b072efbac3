"""Entry points the notebooks call: bronze->silver, silver->gold with quality checks, and the report."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame, SparkSession

from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.notebook import notebook_parameters
from include.pinterest.report import render_report
from include.pinterest.settings import TABLES
from include.pinterest.spark.analyses import all_analyses
from include.pinterest.spark.quality import RuleResult, check_quality
from include.pinterest.spark.schemas import QUARANTINE_SCHEMA, SILVER_SCHEMAS
from include.pinterest.spark.session import build_spark
from include.pinterest.spark.silver import BronzeRun, bronze_to_silver, ensure_delta_table

# Most of a small batch's time is per-job and per-commit latency, not CPU: running the three tables (and the
# nine gold writes) side by side overlaps those waits. Three threads keep a 2-core machine busy without thrashing.
PARALLEL_TABLES = 3


def batch_notebook(description: str, notebook_globals: dict, app_name: str) -> tuple[SparkSession, Lake]:
    """What every batch notebook starts with: its parameters (``lake_root``, ``topic_prefix``), its session."""
    parameters = notebook_parameters(description, notebook_globals, lake_root=None, topic_prefix=None)
    return build_spark(app_name), Lake(root=parameters["lake_root"], topic_prefix=parameters["topic_prefix"])


def run_clean(spark: SparkSession, lake: Lake, max_files_per_trigger: int | None = None) -> dict[str, BronzeRun]:
    """Bring every silver table up to date with the bronze files that landed since the last run."""
    # Create the tables first: concurrent first-time creation of the shared quarantine table would conflict.
    ensure_delta_table(spark, lake.quarantine, QUARANTINE_SCHEMA)
    for table in TABLES:
        ensure_delta_table(spark, lake.silver(table), SILVER_SCHEMAS[table])
    with ThreadPoolExecutor(PARALLEL_TABLES) as pool:
        futures = {t: pool.submit(bronze_to_silver, spark, lake, t, max_files_per_trigger) for t in TABLES}
        return {table: future.result() for table, future in futures.items()}


def read_silver(spark: SparkSession, lake: Lake) -> dict[str, DataFrame]:
    return {table: spark.read.format("delta").load(lake.silver(table)) for table in TABLES}


def run_analyse(spark: SparkSession, lake: Lake) -> tuple[list[RuleResult], dict[str, DataFrame]]:
    """Check silver, then rewrite the nine gold tables; nothing is published when a quality rule fails."""
    results = check_quality(spark, lake)
    silver = read_silver(spark, lake)
    # Cached: each small answer is computed once, by its write, and shown from memory afterwards (reading the
    # nine tables back from the lake cost about a second each).
    gold = {name: df.cache() for name, df in all_analyses(silver["pin"], silver["geo"], silver["user"]).items()}

    def publish(name: str) -> None:
        df = gold[name]
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(lake.gold(name))

    with ThreadPoolExecutor(PARALLEL_TABLES) as pool:
        list(pool.map(publish, gold))
    return results, gold


def read_gold(spark: SparkSession, lake: Lake) -> dict[str, list[dict]]:
    """Every gold table as rows (they are small: one row per country, year or group)."""
    return {
        name: [row.asDict() for row in spark.read.format("delta").load(lake.gold(name)).collect()]
        for name in GOLD_TABLES
    }


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write one object through Hadoop's file system, so file://, s3a:// and dbfs: all work."""
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def run_report(spark: SparkSession, lake: Lake) -> tuple[str, str]:
    """Render the gold tables (``include.pinterest.report``) to ``<root>/gold/report.html``; returns its URI and
    the page, which the notebook also shows on Databricks."""
    page = render_report(read_gold(spark, lake))
    write_text(spark, lake.report, page)
    return lake.report, page
