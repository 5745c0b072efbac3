"""The nine analyses of spec §5 against answers computed by hand on a small silver fixture.

The fixture has ties (equal counts, equal follower counts), even- and odd-sized median groups, an under-18
user, a post outside the year ranges and a null follower count.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.testing import assertDataFrameEqual

from include.pinterest.spark import analyses
from include.pinterest.spark.schemas import SILVER_SCHEMAS

pytestmark = pytest.mark.spark

# ind: (category, poster_name, follower_count, country, post time, age, joined)
POSTS = {
    1: ("art", "alice", 100, "France", datetime(2018, 5, 1), 20, datetime(2015, 1, 1)),
    2: ("art", "bob", 300, "France", datetime(2019, 1, 1), 30, datetime(2015, 6, 1)),
    3: ("travel", "carl", 300, "France", datetime(2019, 6, 1), 17, datetime(2016, 1, 1)),
    4: ("travel", "dora", 50, "Chile", datetime(2019, 7, 1), 60, datetime(2016, 2, 1)),
    5: ("beauty", "eve", None, "Chile", datetime(2017, 1, 1), 45, datetime(2017, 3, 1)),
    6: ("art", "alice", 200, "Chile", datetime(2022, 3, 1), 22, datetime(2015, 9, 1)),
}


@pytest.fixture(scope="module")
def silver(spark):
    pin = spark.createDataFrame(
        [
            (i, f"u{i}", "t", "d", fc, poster, "a,b", "image", "http://x", f"/data/{cat}", cat, 1)
            for i, (cat, poster, fc, *_rest) in POSTS.items()
        ],
        SILVER_SCHEMAS["pin"],
    )
    geo = spark.createDataFrame(
        [(i, country, [0.0, 0.0], ts) for i, (_, _, _, country, ts, _, _) in POSTS.items()], SILVER_SCHEMAS["geo"]
    )
    user = spark.createDataFrame(
        [(i, f"user {i}", age, joined) for i, (*_, age, joined) in POSTS.items()], SILVER_SCHEMAS["user"]
    )
    return pin, geo, user


def test_category_by_country_breaks_ties_alphabetically(spark, silver):
    pin, geo, _ = silver
    expected = spark.createDataFrame(
        [("Chile", "art", 1), ("France", "art", 2)], "country string, category string, category_count long"
    )
    assertDataFrameEqual(analyses.category_by_country(pin, geo), expected)


def test_category_by_year_keeps_2018_to_2022(spark, silver):
    pin, geo, _ = silver
    expected = spark.createDataFrame(
        [(2018, "art", 1), (2019, "travel", 2), (2022, "art", 1)], "post_year int, category string, category_count long"
    )
    assertDataFrameEqual(analyses.category_by_year(pin, geo), expected)


def test_top_poster_by_country_and_top_country(spark, silver):
    pin, geo, _ = silver
    top = analyses.top_poster_by_country(pin, geo)
    assertDataFrameEqual(
        top,
        spark.createDataFrame(
            [("Chile", "alice", 200), ("France", "bob", 300)], "country string, poster_name string, follower_count int"
        ),
    )
    assertDataFrameEqual(
        analyses.top_country_by_followers(top),
        spark.createDataFrame([("France", 300)], "country string, follower_count int"),
    )


def test_category_by_age_group_leaves_out_under_18(spark, silver):
    pin, _, user = silver
    expected = spark.createDataFrame(
        [("+50", "travel", 1), ("18-24", "art", 2), ("25-35", "art", 1), ("36-50", "beauty", 1)],
        "age_group string, category string, category_count long",
    )
    assertDataFrameEqual(analyses.category_by_age_group(pin, user), expected)


def test_median_followers_by_age_group_is_exact(spark, silver):
    pin, _, user = silver
    expected = spark.createDataFrame(
        [("+50", 50.0), ("18-24", 150.0), ("25-35", 300.0)], "age_group string, median_follower_count double"
    )
    assertDataFrameEqual(analyses.median_followers_by_age_group(pin, user), expected)


def test_users_joined_by_year(spark, silver):
    _, _, user = silver
    expected = spark.createDataFrame([(2015, 3), (2016, 2), (2017, 1)], "post_year int, number_users_joined long")
    assertDataFrameEqual(analyses.users_joined_by_year(user), expected)


def test_median_followers_by_join_year_odd_and_even_counts(spark, silver):
    pin, _, user = silver
    expected = spark.createDataFrame([(2015, 200.0), (2016, 175.0)], "post_year int, median_follower_count double")
    assertDataFrameEqual(analyses.median_followers_by_join_year(pin, user), expected)


def test_median_followers_by_join_year_and_age_group(spark, silver):
    pin, _, user = silver
    expected = spark.createDataFrame(
        [("+50", 2016, 50.0), ("18-24", 2015, 150.0), ("25-35", 2015, 300.0)],
        "age_group string, post_year int, median_follower_count double",
    )
    assertDataFrameEqual(analyses.median_followers_by_join_year_and_age_group(pin, user), expected)


def test_exact_median_of_even_group_is_mean_of_middle_values(spark):
    df = spark.createDataFrame(
        [("a", 4), ("a", 1), ("a", 3), ("a", 2), ("b", 7), ("b", 1), ("b", 100), ("c", None)], "g string, v int"
    )
    expected = spark.createDataFrame([("a", 2.5), ("b", 7.0)], "g string, m double")
    assertDataFrameEqual(analyses.exact_median(df, ["g"], "v", "m"), expected)


def test_all_analyses_use_the_spec_column_names(silver):
    columns = {name: df.columns for name, df in analyses.all_analyses(*silver).items()}
    assert columns == {
        "category_by_country": ["country", "category", "category_count"],
        "category_by_year": ["post_year", "category", "category_count"],
        "top_poster_by_country": ["country", "poster_name", "follower_count"],
        "top_country_by_followers": ["country", "follower_count"],
        "category_by_age_group": ["age_group", "category", "category_count"],
        "median_followers_by_age_group": ["age_group", "median_follower_count"],
        "users_joined_by_year": ["post_year", "number_users_joined"],
        "median_followers_by_join_year": ["post_year", "median_follower_count"],
        "median_followers_by_join_year_and_age_group": ["age_group", "post_year", "median_follower_count"],
    }
