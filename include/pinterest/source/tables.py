"""The three source tables of spec §2 as SQLAlchemy Core tables (SQLite, MySQL or any SQLAlchemy URL), derived from
``include.pinterest.tables``."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, Table, Text

from include.pinterest.tables import TABLE_SPECS, TableSpec

metadata = MetaData()
SQL_TYPES = {"integer": Integer, "number": Float, "text": Text, "datetime": DateTime}


def _column(spec: TableSpec, column) -> Column:
    if column.name == spec.key:
        return Column(column.name, SQL_TYPES[column.kind], primary_key=True, autoincrement=False)
    return Column(column.name, SQL_TYPES[column.kind], nullable=False)


def _table(spec: TableSpec) -> Table:
    return Table(spec.source_table, metadata, *(_column(spec, column) for column in spec.columns))


SOURCE_TABLES = {table: _table(spec) for table, spec in TABLE_SPECS.items()}
pinterest_data, geolocation_data, user_data = SOURCE_TABLES["pin"], SOURCE_TABLES["geo"], SOURCE_TABLES["user"]

# What was generated, so a second run with the same arguments can skip the work.
source_meta = Table(
    "source_meta",
    metadata,
    Column("rows", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
)
