"""Explicit schemas of the pipeline's tables (spec §2-§4): nothing is inferred.

``SOURCE_SCHEMAS`` describe one source row as JSON (a bronze JSON line or a Kinesis payload), with every field
read as it arrives; ``SILVER_SCHEMAS`` describe the cleaned tables in the column order of spec §4.
"""

from __future__ import annotations

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

from include.pinterest.tables import SOURCE_KEYS, TABLE_SPECS  # noqa: F401  (SOURCE_KEYS re-exported)


def _struct(*fields: tuple[str, object]) -> StructType:
    return StructType([StructField(name, dtype, nullable=True) for name, dtype in fields])


# As each field arrives in a JSON line or a Kinesis payload: datetimes are still text here, parsed by cleaning.
SPARK_TYPES = {"integer": IntegerType(), "number": DoubleType(), "text": StringType(), "datetime": StringType()}
SOURCE_SCHEMAS: dict[str, StructType] = {
    table: _struct(*((c.name, SPARK_TYPES[c.kind]) for c in spec.columns)) for table, spec in TABLE_SPECS.items()
}

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

SILVER_SCHEMAS: dict[str, StructType] = {
    "pin": PIN_SILVER_SCHEMA,
    "geo": GEO_SILVER_SCHEMA,
    "user": USER_SILVER_SCHEMA,
}


QUARANTINE_SCHEMA = _struct(
    ("table", StringType()),
    ("raw", StringType()),
    ("reason", StringType()),
    ("batch_id", LongType()),
    ("quarantined_at", TimestampType()),
)
