"""The nine analyses of spec §5 as pure functions of the silver DataFrames.

Silver holds one row per ``ind``, so joining on ``ind`` counts every post once. Ranks are deterministic
(highest count, ties to the alphabetically first value) and medians exact (mean of the two middle values
for an even count), computed with window functions rather than approximate percentiles.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

AGE_GROUPS: tuple[str, ...] = ("18-24", "25-35", "36-50", "+50")
POST_YEARS = (2018, 2022)
JOIN_YEARS = (2015, 2020)


def age_group(age: Column) -> Column:
    """``18-24``, ``25-35``, ``36-50``, ``+50``; null for ages under 18 (they belong to no group)."""
    return (
        F.when(age.between(18, 24), "18-24")
        .when(age.between(25, 35), "25-35")
        .when(age.between(36, 50), "36-50")
        .when(age > 50, "+50")
    )


def with_age_group(df: DataFrame) -> DataFrame:
    """Adds ``age_group`` and keeps only rows that belong to one."""
    return df.withColumn("age_group", age_group(F.col("age"))).where(F.col("age_group").isNotNull())


def top_per_group(df: DataFrame, groups: Sequence[str], value: str, measure: str) -> DataFrame:
    """The row with the highest ``measure`` per group; ties go to the alphabetically first ``value``."""
    window = Window.partitionBy(*groups).orderBy(F.col(measure).desc(), F.col(value).asc())
    return (
        df.withColumn("_rank", F.row_number().over(window))
        .where(F.col("_rank") == 1)
        .select(*groups, value, measure)
        .orderBy(*groups)
    )


def most_frequent(df: DataFrame, groups: Sequence[str], value: str, count_name: str) -> DataFrame:
    """The most frequent ``value`` per group with its count; nulls in the group or value are left out."""
    counted = df.dropna(subset=[*groups, value]).groupBy(*groups, value).agg(F.count(F.lit(1)).alias(count_name))
    return top_per_group(counted, groups, value, count_name)


def exact_median(df: DataFrame, groups: Sequence[str], value: str, median_name: str) -> DataFrame:
    """Exact median of ``value`` per group: the middle value, or the mean of the two middle values."""
    present = df.dropna(subset=[*groups, value])
    ordered = Window.partitionBy(*groups).orderBy(F.col(value))
    whole = Window.partitionBy(*groups)
    n = F.col("_n")
    middle = (
        present.withColumn("_row", F.row_number().over(ordered))
        .withColumn("_n", F.count(F.lit(1)).over(whole))
        .where((F.col("_row") == F.floor((n + 1) / 2)) | (F.col("_row") == F.floor(n / 2) + 1))
    )
    return middle.groupBy(*groups).agg(F.avg(F.col(value).cast("double")).alias(median_name)).orderBy(*groups)


def _posts_with_geo(pin: DataFrame, geo: DataFrame) -> DataFrame:
    return pin.join(geo, "ind")


def _posts_with_user(pin: DataFrame, user: DataFrame) -> DataFrame:
    return pin.join(user, "ind")


def _year_between(column: str, years: tuple[int, int]) -> Column:
    return F.year(F.col(column)).between(*years)


def category_by_country(pin: DataFrame, geo: DataFrame) -> DataFrame:
    """#1: most popular category in each country."""
    return most_frequent(_posts_with_geo(pin, geo), ["country"], "category", "category_count")


def category_by_year(pin: DataFrame, geo: DataFrame) -> DataFrame:
    """#2: most popular category each year 2018-2022 (year of the post's geo timestamp)."""
    posts = (
        _posts_with_geo(pin, geo)
        .where(_year_between("timestamp", POST_YEARS))
        .withColumn("post_year", F.year("timestamp"))
    )
    return most_frequent(posts, ["post_year"], "category", "category_count")


def top_poster_by_country(pin: DataFrame, geo: DataFrame) -> DataFrame:
    """#3a: in each country, the poster with the most followers (a poster's highest count in that country)."""
    posters = (
        _posts_with_geo(pin, geo)
        .dropna(subset=["country", "poster_name", "follower_count"])
        .groupBy("country", "poster_name")
        .agg(F.max("follower_count").alias("follower_count"))
    )
    return top_per_group(posters, ["country"], "poster_name", "follower_count")


def top_country_by_followers(top_posters: DataFrame) -> DataFrame:
    """#3b: the one country whose top poster has the most followers (input: the output of #3a)."""
    window = Window.orderBy(F.col("follower_count").desc(), F.col("country").asc())
    return (
        top_posters.withColumn("_rank", F.row_number().over(window))
        .where(F.col("_rank") == 1)
        .select("country", "follower_count")
    )


def category_by_age_group(pin: DataFrame, user: DataFrame) -> DataFrame:
    """#4: most popular category in each age group."""
    return most_frequent(
        _posts_with_user(pin, user).transform(with_age_group), ["age_group"], "category", "category_count"
    )


def median_followers_by_age_group(pin: DataFrame, user: DataFrame) -> DataFrame:
    """#5: median follower count in each age group."""
    posts = _posts_with_user(pin, user).transform(with_age_group)
    return exact_median(posts, ["age_group"], "follower_count", "median_follower_count")


def users_joined_by_year(user: DataFrame) -> DataFrame:
    """#6: users who joined each year 2015-2020 (one user record per post)."""
    return (
        user.where(_year_between("date_joined", JOIN_YEARS))
        .groupBy(F.year("date_joined").alias("post_year"))
        .agg(F.count(F.lit(1)).alias("number_users_joined"))
        .orderBy("post_year")
    )


def median_followers_by_join_year(pin: DataFrame, user: DataFrame) -> DataFrame:
    """#7: median follower count of users by joining year 2015-2020."""
    posts = (
        _posts_with_user(pin, user)
        .where(_year_between("date_joined", JOIN_YEARS))
        .withColumn("post_year", F.year("date_joined"))
    )
    return exact_median(posts, ["post_year"], "follower_count", "median_follower_count")


def median_followers_by_join_year_and_age_group(pin: DataFrame, user: DataFrame) -> DataFrame:
    """#8: median follower count by joining year 2015-2020 and age group."""
    posts = (
        _posts_with_user(pin, user)
        .where(_year_between("date_joined", JOIN_YEARS))
        .withColumn("post_year", F.year("date_joined"))
        .transform(with_age_group)
    )
    return exact_median(posts, ["age_group", "post_year"], "follower_count", "median_follower_count")


def all_analyses(pin: DataFrame, geo: DataFrame, user: DataFrame) -> dict[str, DataFrame]:
    """Every gold output keyed by its table name (see ``lake.GOLD_TABLES``)."""
    top_posters = top_poster_by_country(pin, geo)
    return {
        "category_by_country": category_by_country(pin, geo),
        "category_by_year": category_by_year(pin, geo),
        "top_poster_by_country": top_posters,
        "top_country_by_followers": top_country_by_followers(top_posters),
        "category_by_age_group": category_by_age_group(pin, user),
        "median_followers_by_age_group": median_followers_by_age_group(pin, user),
        "users_joined_by_year": users_joined_by_year(user),
        "median_followers_by_join_year": median_followers_by_join_year(pin, user),
        "median_followers_by_join_year_and_age_group": median_followers_by_join_year_and_age_group(pin, user),
    }
