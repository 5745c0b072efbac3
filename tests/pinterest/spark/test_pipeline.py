"""bronze -> silver -> gold on a file:// lake: incremental runs, exactly once, idempotency, quarantine,
quality failures and the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.spark import jobs
from include.pinterest.spark.quality import DataQualityError, check_quality, reconciliation_result
from include.pinterest.spark.silver import REASON_MALFORMED_KEY

from .conftest import TOPIC_PREFIX, land

pytestmark = pytest.mark.spark


def pin(ind: int, category: str = "art", followers: str = "1k") -> dict:
    return {
        "index": ind,
        "unique_id": f"u{ind}",
        "title": "t",
        "description": "d",
        "poster_name": f"p{ind}",
        "follower_count": followers,
        "tag_list": "a",
        "is_image_or_video": "image",
        "image_src": "http://x",
        "downloaded": 1,
        "save_location": f"Local save in /data/{category}",
        "category": category,
    }


def geo(ind: int, country: str = "France") -> dict:
    return {"ind": ind, "timestamp": "2020-08-28T03:52:47", "latitude": 1.5, "longitude": -2.5, "country": country}


def user(ind: int, age: int = 30) -> dict:
    return {"ind": ind, "first_name": "Ann", "last_name": "Lee", "age": age, "date_joined": "2016-01-02 03:04:05"}


def land_posts(lake: Lake, partition: int, offset: int, posts: list[int]) -> None:
    land(lake, "pin", partition, offset, [pin(i, "travel" if i % 3 == 0 else "art") for i in posts])
    land(lake, "geo", partition, offset, [geo(i, "Chile" if i % 2 else "France") for i in posts])
    land(lake, "user", partition, offset, [user(i, 20 + i) for i in posts])


def silver_counts(spark, lake: Lake) -> dict[str, int]:
    return {t: df.count() for t, df in jobs.read_silver(spark, lake).items()}


def delta_version(spark, path: str) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}`").agg(F.max("version")).first()[0]


@pytest.fixture(scope="module")
def pipeline(spark, tmp_path_factory):
    """Two landings and three clean runs on one lake; the tests below read what each run did."""
    lake = Lake(root=tmp_path_factory.mktemp("pipeline").as_uri(), topic_prefix=TOPIC_PREFIX)
    # First landing: partitions 1 and 2 (never assume 0), several records per file, post 2 sent twice,
    # and in pin two records without a usable key.
    land_posts(lake, 1, 0, [1, 2, 3])
    land_posts(lake, 2, 0, [4, 2])
    land(lake, "pin", 2, 2, ['{"index": "seven", "title": "x"}', "this is not json"])
    first = jobs.run_clean(spark, lake)
    after_first = silver_counts(spark, lake)
    # Second landing: a new object in partition 1 with one new post and one re-sent post.
    land_posts(lake, 1, 3, [5, 1])
    second = jobs.run_clean(spark, lake)
    after_second = silver_counts(spark, lake)
    versions = {t: delta_version(spark, lake.silver(t)) for t in ("pin", "geo", "user")}
    versions["_quarantine"] = delta_version(spark, lake.quarantine)
    third = jobs.run_clean(spark, lake)
    return {
        "lake": lake,
        "first": first,
        "second": second,
        "third": third,
        "after_first": after_first,
        "after_second": after_second,
        "versions": versions,
    }


def test_first_run_reads_every_partition_and_dedupes(pipeline):
    assert pipeline["first"]["pin"].input_files == 3
    assert pipeline["first"]["pin"].input_rows == 7
    assert pipeline["first"]["geo"].input_rows == 5
    assert pipeline["after_first"] == {"pin": 4, "geo": 4, "user": 4}


def test_second_run_processes_only_the_new_files(pipeline):
    for table in ("pin", "geo", "user"):
        assert pipeline["second"][table].input_files == 1
        assert pipeline["second"][table].input_rows == 2
    assert pipeline["after_second"] == {"pin": 5, "geo": 5, "user": 5}


def test_a_run_without_new_files_changes_nothing(spark, pipeline):
    lake = pipeline["lake"]
    assert all(run.batches == 0 and run.input_rows == 0 for run in pipeline["third"].values())
    for table in ("pin", "geo", "user"):
        assert delta_version(spark, lake.silver(table)) == pipeline["versions"][table]
    assert delta_version(spark, lake.quarantine) == pipeline["versions"]["_quarantine"]
    assert silver_counts(spark, lake) == pipeline["after_second"]


def test_rows_without_a_key_are_quarantined_with_their_raw_json(spark, pipeline):
    quarantine = spark.read.format("delta").load(pipeline["lake"].quarantine).select("table", "raw", "reason")
    expected = spark.createDataFrame(
        [
            ("pin", '{"index": "seven", "title": "x"}', REASON_MALFORMED_KEY),
            ("pin", "this is not json", REASON_MALFORMED_KEY),
        ],
        "table string, raw string, reason string",
    )
    assertDataFrameEqual(quarantine, expected)


def test_gold_counts_each_post_once_and_reruns_are_identical(spark, pipeline):
    lake = pipeline["lake"]
    results, gold = jobs.run_analyse(spark, lake)
    assert results and all(r.passed for r in results)
    # posts 1..5: art = 1,2,4,5 and travel = 3; Chile = 1,3,5 and France = 2,4 (post 2 and 1 were re-sent).
    assertDataFrameEqual(
        gold["category_by_country"],
        spark.createDataFrame(
            [("Chile", "art", 2), ("France", "art", 2)], "country string, category string, category_count long"
        ),
    )
    assertDataFrameEqual(
        gold["users_joined_by_year"], spark.createDataFrame([(2016, 5)], "post_year int, number_users_joined long")
    )
    before = {name: df.collect() for name, df in gold.items()}
    _, again = jobs.run_analyse(spark, lake)
    for name in GOLD_TABLES:
        assertDataFrameEqual(again[name], before[name])


def test_report_is_self_contained_html(pipeline, spark):
    lake = pipeline["lake"]
    if not Path(lake.gold("category_by_country").removeprefix("file://")).exists():
        jobs.run_analyse(spark, lake)
    uri, shown = jobs.run_report(spark, lake)
    page = Path(uri.removeprefix("file://")).read_text(encoding="utf-8")
    assert page == shown and page.startswith("<!DOCTYPE html>")
    assert page.count("<figure>") == 9 and page.count("<svg") == 9
    assert "<script" not in page and "cdn" not in page.lower()
    assert "Median follower count by joining year" in page and "Most popular category in each country" in page


def test_unprocessed_bronze_fails_reconciliation_with_counts(spark, pipeline, tmp_path):
    copy = tmp_path / "lake"
    shutil.copytree(Path(pipeline["lake"].root.removeprefix("file://")), copy)
    lake = Lake(root=copy.as_uri(), topic_prefix=TOPIC_PREFIX)
    land(lake, "geo", 0, 0, [geo(100), geo(101)])
    with pytest.raises(DataQualityError) as failure:
        check_quality(spark, lake)
    message = str(failure.value)
    assert "bronze_silver_reconciliation on geo: 2 of 7 rows fail" in message
    assert "silver rows 5 + quarantined 0 = 5" in message
    assert [f.rule for f in failure.value.failures] == ["bronze_silver_reconciliation"]


def test_broken_silver_rows_name_every_failed_rule(spark, pipeline, tmp_path):
    copy = tmp_path / "lake"
    shutil.copytree(Path(pipeline["lake"].root.removeprefix("file://")), copy)
    lake = Lake(root=copy.as_uri(), topic_prefix=TOPIC_PREFIX)
    silver = spark.read.format("delta").load(lake.silver("pin"))
    bad = silver.where("ind = 1").withColumns(
        {"category": F.lit("cars"), "follower_count": F.lit(-5), "is_image_or_video": F.lit("gif")}
    )
    bad.write.format("delta").mode("append").save(lake.silver("pin"))
    with pytest.raises(DataQualityError) as failure:
        check_quality(spark, lake)
    failed = {f.rule: f for f in failure.value.failures if f.table == "pin"}
    assert set(failed) == {
        "follower_count_non_negative",
        "category_in_enumeration",
        "is_image_or_video_in_enumeration",
        "key_unique",
        "bronze_silver_reconciliation",
    }
    assert str(failed["category_in_enumeration"]) == "category_in_enumeration on pin: 1 of 6 rows fail"
    assert failed["key_unique"].failing == 1


def test_reconciliation_counts_unkeyed_records_once_each(spark):
    bronze = spark.createDataFrame([(1,), (1,), (2,), (None,), (None,)], "ind int")
    assert reconciliation_result("geo", bronze, silver_rows=2, quarantined=2).passed
    assert reconciliation_result("geo", bronze, silver_rows=2, quarantined=0).failing == 2
