"""Explicit schemas of the pipeline's tables (spec §2-§4): nothing is inferred.

``SOURCE_SCHEMAS`` describe one source row as JSON (a bronze JSON line or a Kinesis payload), with every field
read as it arrives; ``SILVER_SCHEMAS`` describe the cleaned tables in the column order of spec §4.
"""

from __future__ import annotations

from include.pinterest.domain import CATEGORIES, MEDIA_TYPES  # noqa: F401  (re-exported for the checks)
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)


def _struct(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, dtype, nullable=True) for name, dtype in fields])


PIN_SOURCE_SCHEMA = _struct(
    ("index", IntegerType()),
    ("unique_id", StringType()),
    ("title", StringType()),
    ("description", StringType()),
    ("poster_name", StringType()),
    ("follower_count", StringType()),
    ("tag_list", StringType()),
    ("is_image_or_video", StringType()),
    ("image_src", StringType()),
    ("downloaded", IntegerType()),
    ("save_location", StringType()),
    ("category", StringType()),
)

GEO_SOURCE_SCHEMA = _struct(
    ("ind", IntegerType()),
    ("timestamp", StringType()),
    ("latitude", DoubleType()),
    ("longitude", DoubleType()),
    ("country", StringType()),
)

USER_SOURCE_SCHEMA = _struct(
    ("ind", IntegerType()),
    ("first_name", StringType()),
    ("last_name", StringType()),
    ("age", IntegerType()),
    ("date_joined", StringType()),
)

PIN_SILVER_SCHEMA = _struct(
    ("ind", IntegerType()),
    ("unique_id", StringType()),
    ("title", StringType()),
    ("description", StringType()),
    ("follower_count", IntegerType()),
    ("poster_name", StringType()),
    ("tag_list", StringType()),
    ("is_image_or_video", StringType()),
    ("image_src", StringType()),
    ("save_location", StringType()),
    ("category", StringType()),
    ("downloaded", IntegerType()),
)

GEO_SILVER_SCHEMA = _struct(
    ("ind", IntegerType()),
    ("country", StringType()),
    ("coordinates", ArrayType(DoubleType(), containsNull=True)),
    ("timestamp", TimestampType()),
)

USER_SILVER_SCHEMA = _struct(
    ("ind", IntegerType()),
    ("user_name", StringType()),
    ("age", IntegerType()),
    ("date_joined", TimestampType()),
)

SOURCE_SCHEMAS: dict[str, StructType] = {
    "pin": PIN_SOURCE_SCHEMA,
    "geo": GEO_SOURCE_SCHEMA,
    "user": USER_SOURCE_SCHEMA,
}

SILVER_SCHEMAS: dict[str, StructType] = {
    "pin": PIN_SILVER_SCHEMA,
    "geo": GEO_SILVER_SCHEMA,
    "user": USER_SILVER_SCHEMA,
}

# The source field that carries the key before cleaning renames it to ``ind``.
SOURCE_KEYS: dict[str, str] = {"pin": "index", "geo": "ind", "user": "ind"}

QUARANTINE_SCHEMA = _struct(
    ("table", StringType()),
    ("raw", StringType()),
    ("reason", StringType()),
    ("batch_id", LongType()),
    ("quarantined_at", TimestampType()),
)
