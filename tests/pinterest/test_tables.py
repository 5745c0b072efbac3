"""The one table specification (include/pinterest/tables.py) against everything that restates it: the ingest API's
validation (by behaviour), the OpenAPI document, the source database's tables and the Spark source schemas."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from include.pinterest.records import validation_problem
from include.pinterest.tables import TABLE_SPECS, Column

OPENAPI = Path(__file__).resolve().parents[2] / "include" / "openapi" / "ingest-api.yaml"
ROW_SCHEMAS = {"pin": "PinRow", "geo": "GeoRow", "user": "UserRow"}
EXAMPLES = {"integer": 1, "number": 0.5, "text": "x", "datetime": "2020-08-28 03:52:47"}


def _valid_value(column: Column):
    return column.values[0] if column.values else EXAMPLES[column.kind]


def _valid_row(table: str) -> dict:
    return {column.name: _valid_value(column) for column in TABLE_SPECS[table].columns}


COLUMNS = [(table, column) for table, spec in TABLE_SPECS.items() for column in spec.columns]


@pytest.mark.parametrize("table", TABLE_SPECS)
def test_a_row_built_from_the_spec_is_valid_and_every_column_is_required(table):
    row = _valid_row(table)
    assert validation_problem(table, row) is None
    for name in row:
        problem = validation_problem(table, {k: v for k, v in row.items() if k != name})
        assert problem and f"'{name}'" in problem


@pytest.mark.parametrize(("table", "column"), COLUMNS, ids=[f"{t}.{c.name}" for t, c in COLUMNS])
def test_the_api_enforces_each_columns_type_range_and_value_set(table, column):
    row = _valid_row(table)
    wrong_type = 7 if column.kind in ("text", "datetime") else "7"
    bad = [wrong_type, True] if column.kind == "integer" else [wrong_type]
    if column.values:
        bad.append("not-one-of-them" if column.kind == "text" else 2)
    if column.minimum is not None:
        bad.append(column.minimum - 1)
    if column.maximum is not None:
        bad.append(column.maximum + 1)
    for value in bad:
        problem = validation_problem(table, {**row, column.name: value})
        assert problem and f"'{column.name}'" in problem, (column.name, value, problem)
    assert "is not a column" in (validation_problem(table, {**row, "extra": 1}) or "")


@pytest.mark.parametrize("table", TABLE_SPECS)
def test_the_openapi_row_schema_states_the_spec(table):
    document = yaml.safe_load(OPENAPI.read_text())
    schema = document["components"]["schemas"][ROW_SCHEMAS[table]]
    spec = TABLE_SPECS[table]
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == list(spec.names) and sorted(schema["required"]) == sorted(spec.names)
    openapi_types = {"integer": "integer", "number": "number", "text": "string"}
    for column in spec.columns:
        stated = schema["properties"][column.name]
        if column.kind == "datetime":
            assert stated == {"$ref": "#/components/schemas/DateTime"}
            continue
        assert stated["type"] == openapi_types[column.kind]
        assert stated.get("minimum") == column.minimum and stated.get("maximum") == column.maximum
        assert tuple(stated["enum"]) == column.values if column.values else "enum" not in stated


def test_the_source_tables_and_spark_schemas_are_derived_from_the_spec():
    from include.pinterest.source.tables import SOURCE_TABLES
    from include.pinterest.spark.schemas import SOURCE_SCHEMAS

    for table, spec in TABLE_SPECS.items():
        assert SOURCE_TABLES[table].name == spec.source_table
        assert tuple(SOURCE_TABLES[table].columns.keys()) == spec.names
        assert [c.name for c in SOURCE_TABLES[table].primary_key.columns] == [spec.key]
        assert tuple(SOURCE_SCHEMAS[table].fieldNames()) == spec.names
