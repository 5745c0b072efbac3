"""Data-quality rules on silver (and its reconciliation with bronze) that stop a run when broken.

Every rule yields one ``RuleResult`` with the counts it measured; ``check_quality`` raises a
``DataQualityError`` listing every failed rule, so one run shows all problems at once.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from include.pinterest.lake import Lake
from include.pinterest.settings import TABLES
from include.pinterest.spark.silver import read_bronze
from include.pinterest.tables import CATEGORIES, MEDIA_TYPES, SOURCE_KEYS


@dataclass(frozen=True)
class RuleResult:
    rule: str
    table: str
    failing: int
    checked: int
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.failing == 0

    def __str__(self) -> str:
        extra = f" ({self.detail})" if self.detail else ""
        return f"{self.rule} on {self.table}: {self.failing} of {self.checked} rows fail{extra}"


class DataQualityError(Exception):
    """Raised when at least one rule fails; ``failures`` holds them all."""

    def __init__(self, failures: list[RuleResult]):
        self.failures = failures
        super().__init__("data quality failed:\n" + "\n".join(f"- {f}" for f in failures))


def row_rules(table: str) -> dict[str, Column]:
    """Row-level rules of one silver table: name -> condition that is TRUE for a failing row."""
    return {
        "pin": {
            "key_not_null": F.col("ind").isNull(),
            "follower_count_non_negative": F.col("follower_count") < 0,
            "category_in_enumeration": F.col("category").isNotNull() & ~F.col("category").isin(*CATEGORIES),
            "is_image_or_video_in_enumeration": F.col("is_image_or_video").isNotNull()
            & ~F.col("is_image_or_video").isin(*MEDIA_TYPES),
        },
        "geo": {
            "key_not_null": F.col("ind").isNull(),
            "latitude_in_range": ~F.coalesce(F.col("coordinates")[0].between(-90, 90), F.lit(True)),
            "longitude_in_range": ~F.coalesce(F.col("coordinates")[1].between(-180, 180), F.lit(True)),
        },
        "user": {
            "key_not_null": F.col("ind").isNull(),
            "age_non_negative": F.col("age") < 0,
        },
    }[table]


def silver_rule_results(table: str, silver: DataFrame) -> list[RuleResult]:
    """Row rules plus key uniqueness for one silver table, computed in one aggregation."""
    rules = row_rules(table)
    aggregates = [F.count(F.lit(1)).alias("_rows"), F.countDistinct("ind").alias("_keys")]
    aggregates += [F.sum(F.when(condition, 1).otherwise(0)).alias(name) for name, condition in rules.items()]
    counts = silver.agg(*aggregates).first().asDict()
    rows = counts["_rows"]
    non_null_keys = rows - (counts["key_not_null"] or 0)
    results = [RuleResult(name, table, counts[name] or 0, rows) for name in rules]
    results.append(RuleResult("key_unique", table, non_null_keys - counts["_keys"], rows, "rows sharing an ind"))
    return results


def reconciliation_result(table: str, bronze: DataFrame, silver_rows: int, quarantined: int) -> RuleResult:
    """Distinct bronze keys (each unkeyed record its own) must equal silver rows plus quarantined records."""
    key = SOURCE_KEYS[table]
    counts = bronze.agg(
        F.countDistinct(key).alias("keys"), F.sum(F.when(F.col(key).isNull(), 1).otherwise(0)).alias("unkeyed")
    ).first()
    expected = counts["keys"] + (counts["unkeyed"] or 0)
    actual = silver_rows + quarantined
    return RuleResult(
        "bronze_silver_reconciliation",
        table,
        abs(expected - actual),
        expected,
        f"bronze distinct keys {counts['keys']} + unkeyed records {counts['unkeyed'] or 0} = {expected}; "
        f"silver rows {silver_rows} + quarantined {quarantined} = {actual}",
    )


def quality_results(spark: SparkSession, lake: Lake) -> list[RuleResult]:
    """Every rule on every table of the lake."""
    from delta.tables import DeltaTable

    quarantine = (
        DeltaTable.forPath(spark, lake.quarantine).toDF().groupBy("table").count().collect()
        if DeltaTable.isDeltaTable(spark, lake.quarantine)
        else []
    )
    quarantined = {row["table"]: row["count"] for row in quarantine}

    def table_results(table: str) -> list[RuleResult]:
        silver = spark.read.format("delta").load(lake.silver(table))
        results = silver_rule_results(table, silver)
        silver_rows = results[0].checked
        bronze = read_bronze(spark, lake, table)
        return [*results, reconciliation_result(table, bronze, silver_rows, quarantined.get(table, 0))]

    # The tables are independent: checking them side by side overlaps Spark's per-job latency.
    with ThreadPoolExecutor(len(TABLES)) as pool:
        return [result for per_table in pool.map(table_results, TABLES) for result in per_table]


def check_quality(spark: SparkSession, lake: Lake) -> list[RuleResult]:
    """All rule results when every rule passes; otherwise ``DataQualityError`` naming each failed rule."""
    results = quality_results(spark, lake)
    failures = [r for r in results if not r.passed]
    if failures:
        raise DataQualityError(failures)
    return results
