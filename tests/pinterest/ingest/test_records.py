"""Record schemas: valid rows pass (placeholders included), each broken rule is named with its field."""

from __future__ import annotations

import pytest

from include.pinterest.records import validation_problem

PIN = {
    "index": 7,
    "unique_id": "a0c2f5b2-9d1e-4c55-9a1e-1b8f3c7a9e01",
    "title": "User Info Error ✨",
    "description": "No description available",
    "poster_name": "User Info Error",
    "follower_count": "User Info Error",
    "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",
    "is_image_or_video": "multi-video(story page format)",
    "image_src": "Image src error.",
    "downloaded": 0,
    "save_location": "Local save in /data/travel",
    "category": "travel",
}
GEO = {"ind": 7, "timestamp": "2020-08-28T03:52:47", "latitude": -5.5, "longitude": 120, "country": "Malta"}
USER = {"ind": 7, "first_name": "Ana", "last_name": "Łukasz", "age": 16, "date_joined": "2016-01-02 10:00:00"}


@pytest.mark.parametrize(("table", "row"), [("pin", PIN), ("geo", GEO), ("user", USER)])
def test_valid_rows_pass(table: str, row: dict) -> None:
    assert validation_problem(table, row) is None


@pytest.mark.parametrize("timestamp", ["2020-08-28T03:52:47", "2020-08-28 03:52:47", "2020-08-28T03:52:47.250"])
def test_both_datetime_forms(timestamp: str) -> None:
    assert validation_problem("geo", {**GEO, "timestamp": timestamp}) is None


BROKEN_RULES = [
    ("geo", {"timestamp": "28/08/2020"}, "field 'timestamp': must be a datetime"),
    ("geo", {"timestamp": "2020-02-30 00:00:00"}, "field 'timestamp': is not a real date"),
    ("geo", {"latitude": 91}, "field 'latitude': Input should be less than or equal to 90"),
    ("geo", {"longitude": "1.0"}, "field 'longitude'"),
    ("geo", {"ind": "7"}, "field 'ind': Input should be a valid integer"),
    ("geo", {"ind": -1}, "field 'ind': Input should be greater than or equal to 0"),
    ("user", {"age": 17.5}, "field 'age'"),
    ("user", {"age": True}, "field 'age'"),
    ("user", {"first_name": None}, "field 'first_name': Input should be a valid string"),
    ("pin", {"category": "cats"}, "field 'category'"),
    ("pin", {"downloaded": 2}, "field 'downloaded': Input should be 0 or 1"),
    ("pin", {"extra": 1}, "field 'extra': is not a column of this table"),
]


@pytest.mark.parametrize(("table", "change", "expected"), BROKEN_RULES)
def test_broken_rule_is_named(table: str, change: dict, expected: str) -> None:
    row = {"pin": PIN, "geo": GEO, "user": USER}[table]
    problem = validation_problem(table, {**row, **change})
    assert problem is not None and expected in problem


def test_missing_field_and_wrong_type() -> None:
    missing = {k: v for k, v in USER.items() if k != "age"}
    assert validation_problem("user", missing) == "field 'age': Field required"
    assert "valid dictionary" in validation_problem("user", [USER])
