"""The one specification of the three source tables (spec §2): keys, columns, types, ranges and closed value sets.

The source generator's SQL tables and the Spark source schemas are derived from it; the ingest API's validation
and the OpenAPI document are checked against it by tests/pinterest/test_tables.py. Plain data: importing this pulls in
neither pydantic, SQLAlchemy nor Spark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

CATEGORIES: tuple[str, ...] = (
    "art",
    "beauty",
    "christmas",
    "diy-and-crafts",
    "education",
    "event-planning",
    "finance",
    "home-decor",
    "mens-fashion",
    "quotes",
    "tattoos",
    "travel",
    "vehicles",
)
MEDIA_TYPES: tuple[str, ...] = ("image", "video", "multi-video(story page format)")

Kind = Literal["integer", "number", "text", "datetime"]


@dataclass(frozen=True)
class Column:
    """One column as it arrives: ``datetime`` columns travel as text (``YYYY-MM-DD[T ]HH:MM:SS``)."""

    name: str
    kind: Kind
    minimum: float | None = None
    maximum: float | None = None
    values: tuple | None = None  # a closed set of allowed values


@dataclass(frozen=True)
class TableSpec:
    table: str  # pin | geo | user
    source_table: str  # the table's name in the source database
    key: str  # the post key column (``ind`` after cleaning)
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)


KEY = Column("ind", "integer", minimum=0)
TABLE_SPECS: dict[str, TableSpec] = {
    "pin": TableSpec(
        "pin",
        "pinterest_data",
        key="index",
        columns=(
            Column("index", "integer", minimum=0),
            Column("unique_id", "text"),
            Column("title", "text"),
            Column("description", "text"),
            Column("poster_name", "text"),
            Column("follower_count", "text"),
            Column("tag_list", "text"),
            Column("is_image_or_video", "text", values=MEDIA_TYPES),
            Column("image_src", "text"),
            Column("downloaded", "integer", values=(0, 1)),
            Column("save_location", "text"),
            Column("category", "text", values=CATEGORIES),
        ),
    ),
    "geo": TableSpec(
        "geo",
        "geolocation_data",
        key="ind",
        columns=(
            KEY,
            Column("timestamp", "datetime"),
            Column("latitude", "number", minimum=-90, maximum=90),
            Column("longitude", "number", minimum=-180, maximum=180),
            Column("country", "text"),
        ),
    ),
    "user": TableSpec(
        "user",
        "user_data",
        key="ind",
        columns=(
            KEY,
            Column("first_name", "text"),
            Column("last_name", "text"),
            Column("age", "integer", minimum=0, maximum=130),
            Column("date_joined", "datetime"),
        ),
    ),
}
SOURCE_KEYS: dict[str, str] = {table: spec.key for table, spec in TABLE_SPECS.items()}


def post_key(row: dict) -> int:
    """The post key of a source row of any table (``index`` in pin rows, ``ind`` in geo and user rows)."""
    return int(row["ind"] if "ind" in row else row["index"])
