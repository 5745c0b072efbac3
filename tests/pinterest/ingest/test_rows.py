"""The compiled record checks (msgspec) hold the contract of ``records``: never looser, stricter only
where the OpenAPI document is (a JSON boolean is not the integer 0 or 1)."""

from __future__ import annotations

import json
from datetime import datetime

import msgspec
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from msgspec import Raw

from include.pinterest.ingest.intake import PRODUCE_RECORDS, split_records
from include.pinterest.ingest.rows import ROWS
from include.pinterest.records import ROW_MODELS, validation_problem
from include.pinterest.source import generate_posts
from tests.pinterest.ingest.test_records import BROKEN_RULES, GEO, PIN, USER

ROW_OF = {"pin": PIN, "geo": GEO, "user": USER}


def compiled_accepts(table: str, row: object) -> bool:
    try:
        msgspec.json.decode(json.dumps(row, default=datetime.isoformat).encode(), type=ROWS[table])
    except msgspec.ValidationError:
        return False
    return True


def test_same_columns_as_the_contract() -> None:
    for table, model in ROW_MODELS.items():
        assert set(ROWS[table].__struct_fields__) == set(model.model_fields), table


def test_every_generated_row_passes() -> None:
    for posts in generate_posts(2_000, seed=3):
        for table, row in zip(("pin", "geo", "user"), posts, strict=True):
            assert compiled_accepts(table, row), (table, row)


@pytest.mark.parametrize(("table", "change", "expected"), BROKEN_RULES)
def test_every_broken_rule_is_refused(table: str, change: dict, expected: str) -> None:
    assert not compiled_accepts(table, {**ROW_OF[table], **change})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=5,
)


@given(table=st.sampled_from(sorted(ROWS)), data=st.data())
@settings(max_examples=400, deadline=None)
def test_never_looser_than_the_contract(table: str, data: st.DataObject) -> None:
    row = dict(ROW_OF[table])
    column = data.draw(st.sampled_from([*row, "extra"]))
    row[column] = data.draw(json_values)
    if compiled_accepts(table, row):
        assert validation_problem(table, row) is None, (column, row[column])


def test_a_boolean_for_downloaded_is_refused_with_field_and_rule() -> None:
    record = Raw(orjson.dumps({"value": {**PIN, "downloaded": False}}))
    valid, [rejected] = split_records("pin", [record], PRODUCE_RECORDS)
    assert valid == []
    assert rejected.reason.startswith("field 'downloaded': ") and "bool" in rejected.reason
