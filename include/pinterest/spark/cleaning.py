"""Cleaning rules of spec §4 as small DataFrame -> DataFrame transforms.

The same functions clean batch (bronze JSON lines) and stream (Kinesis payloads) data, so both paths agree.
Input is a DataFrame with the matching ``SOURCE_SCHEMAS`` columns; ``clean`` returns the ``SILVER_SCHEMAS``
columns in spec order. Every value that cannot be parsed becomes null; no row is ever dropped here
(deduplication and quarantine are the writer's job, because they depend on what is already stored).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType

from include.pinterest.spark.schemas import SILVER_SCHEMAS

PIN_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "title": ("No Title Data Available",),
    "description": ("No description available Story format", "No description available"),
    "poster_name": ("User Info Error",),
    "follower_count": ("User Info Error",),
    "tag_list": ("N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",),
    "image_src": ("Image src error.",),
}

# Both datetime forms of spec §3 (ISO-8601 with "T" and the SQL form with a space).
DATETIME_FORMATS: tuple[str, ...] = ("yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd HH:mm:ss")

SAVE_LOCATION_PREFIX = "Local save in "

# A count with an optional decimal part and an optional k/M suffix; at most 9 digits before the point so the
# product fits an integer column.
_FOLLOWER_COUNT_PATTERN = r"^([0-9]{1,9}(\.[0-9]{1,6})?)([kKmM]?)$"
# Empty, or only whitespace of any kind (tabs, newlines, Unicode spaces).
_BLANK_PATTERN = r"(?U)^\s*$"
_SUFFIX_MULTIPLIERS = {"": 1, "k": 1_000, "K": 1_000, "m": 1_000_000, "M": 1_000_000}


def nullify_blank_strings(df: DataFrame) -> DataFrame:
    """Empty or whitespace-only strings carry no value: make them null in every string column."""
    return df.withColumns(
        {
            f.name: F.when(F.col(f.name).rlike(_BLANK_PATTERN), F.lit(None)).otherwise(F.col(f.name))
            for f in df.schema.fields
            if isinstance(f.dataType, StringType)
        }
    )


def nullify_placeholders(df: DataFrame, placeholders: Mapping[str, Iterable[str]] = PIN_PLACEHOLDERS) -> DataFrame:
    """Placeholder texts the scraper wrote instead of a value become null (compared after trimming)."""
    return df.withColumns(
        {
            column: F.when(F.trim(F.col(column)).isin(*values), F.lit(None)).otherwise(F.col(column))
            for column, values in placeholders.items()
        }
    )


def follower_count_value(raw: Column) -> Column:
    """Numeric value of a follower count text: ``1.5k`` -> 1500, ``1M`` -> 1000000; anything else -> null."""
    text = F.trim(raw)
    number = F.regexp_extract(text, _FOLLOWER_COUNT_PATTERN, 1)
    suffix = F.regexp_extract(text, _FOLLOWER_COUNT_PATTERN, 3)
    multiplier = F.coalesce(*[F.when(suffix == s, F.lit(m)) for s, m in _SUFFIX_MULTIPLIERS.items()]).cast(
        "decimal(7,0)"
    )
    value = F.round(number.cast("decimal(15,6)") * multiplier, 0)
    in_range = value <= F.lit(2_147_483_647)
    return F.when(text.rlike(_FOLLOWER_COUNT_PATTERN) & in_range, value.cast("int"))


def parse_follower_count(df: DataFrame) -> DataFrame:
    """``follower_count`` text becomes an integer by arithmetic on the number and its suffix."""
    return df.withColumn("follower_count", follower_count_value(F.col("follower_count")))


def parse_datetime(raw: Column) -> Column:
    """A timestamp from either datetime form of spec §3; null when it matches neither."""
    text = F.trim(raw)
    return F.coalesce(*[F.try_to_timestamp(text, F.lit(fmt)) for fmt in DATETIME_FORMATS])


def parse_datetimes(df: DataFrame, columns: Iterable[str]) -> DataFrame:
    """Datetime strings become real timestamps."""
    return df.withColumns({c: parse_datetime(F.col(c)) for c in columns})


def rename_index_to_ind(df: DataFrame) -> DataFrame:
    """The pin key arrives as ``index``; every table joins on ``ind``."""
    return df.withColumnRenamed("index", "ind")


def cast_integers(df: DataFrame, columns: Iterable[str]) -> DataFrame:
    """Numeric columns get integer types; a value that is not an integer becomes null instead of failing."""
    return df.withColumns({c: F.col(c).try_cast("int") for c in columns})


def strip_save_location_prefix(df: DataFrame) -> DataFrame:
    """``Local save in /data/art`` keeps only the path ``/data/art``."""
    pattern = "^" + SAVE_LOCATION_PREFIX
    return df.withColumn("save_location", F.regexp_replace(F.col("save_location"), pattern, ""))


def combine_coordinates(df: DataFrame) -> DataFrame:
    """``coordinates`` = ``[latitude, longitude]`` replaces the two columns (null when both are missing)."""
    both_missing = F.col("latitude").isNull() & F.col("longitude").isNull()
    coordinates = F.when(~both_missing, F.array(F.col("latitude"), F.col("longitude")))
    return df.withColumn("coordinates", coordinates).drop("latitude", "longitude")


def combine_user_name(df: DataFrame) -> DataFrame:
    """``user_name`` = first name, one space, last name (the part present when one is missing)."""
    name = F.concat_ws(" ", F.col("first_name"), F.col("last_name"))
    return df.withColumn(
        "user_name", F.when(F.col("first_name").isNull() & F.col("last_name").isNull(), F.lit(None)).otherwise(name)
    ).drop("first_name", "last_name")


def select_silver_columns(df: DataFrame, table: str, keep: Sequence[str] = ()) -> DataFrame:
    """Columns in the order and with the types of ``SILVER_SCHEMAS[table]``, then the caller's ``keep`` columns."""
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in SILVER_SCHEMAS[table].fields], *keep)


def clean_pin(df: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
    return (
        df.transform(nullify_blank_strings)
        .transform(nullify_placeholders, PIN_PLACEHOLDERS)
        .transform(parse_follower_count)
        .transform(rename_index_to_ind)
        .transform(cast_integers, ["ind", "downloaded"])
        .transform(strip_save_location_prefix)
        .transform(select_silver_columns, "pin", keep)
    )


def clean_geo(df: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
    return (
        df.transform(nullify_blank_strings)
        .transform(parse_datetimes, ["timestamp"])
        .transform(cast_integers, ["ind"])
        .transform(combine_coordinates)
        .transform(select_silver_columns, "geo", keep)
    )


def clean_user(df: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
    return (
        df.transform(nullify_blank_strings)
        .transform(combine_user_name)
        .transform(parse_datetimes, ["date_joined"])
        .transform(cast_integers, ["ind", "age"])
        .transform(select_silver_columns, "user", keep)
    )


CLEANERS = {"pin": clean_pin, "geo": clean_geo, "user": clean_user}


def clean(table: str, df: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
    """Apply the §4 rules of one table (``pin``, ``geo`` or ``user``); deduplication is left to the writer.

    ``keep`` names columns of the caller's to carry through unchanged after the silver ones (the streaming job's
    Kinesis coordinates); they must not be string columns, since blank strings become null in every one.
    """
    try:
        cleaner = CLEANERS[table]
    except KeyError:
        raise ValueError(f"table must be one of {', '.join(CLEANERS)}, got {table!r}") from None
    return cleaner(df, keep)
