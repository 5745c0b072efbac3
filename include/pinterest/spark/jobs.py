"""Entry points the notebooks call: bronze->silver, silver->gold with quality checks, and the report."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession

from include.pinterest.settings import TABLES
from include.pinterest.spark.analyses import all_analyses
from include.pinterest.spark.lake import Lake
from include.pinterest.spark.quality import RuleResult, check_quality
from include.pinterest.spark.report import write_report
from include.pinterest.spark.silver import BronzeRun, bronze_to_silver


def run_clean(spark: SparkSession, lake: Lake, max_files_per_trigger: int | None = None) -> dict[str, BronzeRun]:
    """Bring every silver table up to date with the bronze files that landed since the last run."""
    return {table: bronze_to_silver(spark, lake, table, max_files_per_trigger) for table in TABLES}


def read_silver(spark: SparkSession, lake: Lake) -> dict[str, DataFrame]:
    return {table: spark.read.format("delta").load(lake.silver(table)) for table in TABLES}


def run_analyse(spark: SparkSession, lake: Lake) -> tuple[list[RuleResult], dict[str, DataFrame]]:
    """Check silver, then rewrite the nine gold tables; nothing is published when a quality rule fails."""
    results = check_quality(spark, lake)
    silver = read_silver(spark, lake)
    gold = all_analyses(silver["pin"], silver["geo"], silver["user"])
    for name, df in gold.items():
        df.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(lake.gold(name))
    return results, {name: spark.read.format("delta").load(lake.gold(name)) for name in gold}


def run_report(spark: SparkSession, lake: Lake) -> str:
    """Write the HTML report of the gold tables and return its URI."""
    return write_report(spark, lake)
