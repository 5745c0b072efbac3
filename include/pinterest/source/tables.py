"""The three source tables of spec §2 as SQLAlchemy Core tables (SQLite, MySQL or any SQLAlchemy URL)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, Table, Text

metadata = MetaData()

pinterest_data = Table(
    "pinterest_data",
    metadata,
    Column("index", Integer, primary_key=True, autoincrement=False),
    Column("unique_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("description", Text, nullable=False),
    Column("poster_name", Text, nullable=False),
    Column("follower_count", Text, nullable=False),
    Column("tag_list", Text, nullable=False),
    Column("is_image_or_video", Text, nullable=False),
    Column("image_src", Text, nullable=False),
    Column("downloaded", Integer, nullable=False),
    Column("save_location", Text, nullable=False),
    Column("category", Text, nullable=False),
)

geolocation_data = Table(
    "geolocation_data",
    metadata,
    Column("ind", Integer, primary_key=True, autoincrement=False),
    Column("timestamp", DateTime, nullable=False),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("country", Text, nullable=False),
)

user_data = Table(
    "user_data",
    metadata,
    Column("ind", Integer, primary_key=True, autoincrement=False),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("age", Integer, nullable=False),
    Column("date_joined", DateTime, nullable=False),
)

# What was generated, so a second run with the same arguments can skip the work.
source_meta = Table(
    "source_meta",
    metadata,
    Column("rows", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
)

SOURCE_TABLES = {"pin": pinterest_data, "geo": geolocation_data, "user": user_data}
