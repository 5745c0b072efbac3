"""Each cleaning rule of spec §4 on hand-made rows, including every placeholder and edge case."""

from __future__ import annotations

from datetime import datetime

import pytest
from pyspark.testing import assertDataFrameEqual

from include.pinterest.spark.cleaning import (
    clean,
    combine_coordinates,
    combine_user_name,
    nullify_blank_strings,
    nullify_placeholders,
    parse_datetimes,
    parse_follower_count,
    strip_save_location_prefix,
)
from include.pinterest.spark.schemas import SILVER_SCHEMAS, SOURCE_SCHEMAS

pytestmark = pytest.mark.spark


def test_follower_count_is_parsed_numerically(spark):
    raw = ["1.5k", "10k", "892k", "1M", "6M", "0", "437", "User Info Error", None, "abc", "2.5M", " 7k ", "1.2.3k"]
    df = spark.createDataFrame([(v,) for v in raw], "follower_count string")
    expected = [1500, 10000, 892000, 1000000, 6000000, 0, 437, None, None, None, 2500000, 7000, None]
    assertDataFrameEqual(
        df.transform(parse_follower_count),
        spark.createDataFrame([(v,) for v in expected], "follower_count int"),
        checkRowOrder=False,
    )


def test_every_pin_placeholder_becomes_null(spark):
    row = {
        "title": "No Title Data Available",
        "description": "No description available Story format",
        "poster_name": "User Info Error",
        "follower_count": "User Info Error",
        "tag_list": "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",
        "image_src": "Image src error.",
    }
    schema = ", ".join(f"{c} string" for c in row)
    df = spark.createDataFrame(
        [tuple(row.values()), ("Tïtle 🎉", "No description available", "p", "1k", "a,b", "x")], schema
    )
    expected = spark.createDataFrame([(None,) * 6, ("Tïtle 🎉", None, "p", "1k", "a,b", "x")], schema)
    assertDataFrameEqual(df.transform(nullify_placeholders), expected)


def test_blank_strings_become_null_but_text_in_any_script_stays(spark):
    df = spark.createDataFrame([("",), ("   ",), ("\t",), ("日本語 ✨",), (None,)], "title string")
    expected = spark.createDataFrame([(None,), (None,), (None,), ("日本語 ✨",), (None,)], "title string")
    assertDataFrameEqual(df.transform(nullify_blank_strings), expected)


def test_save_location_keeps_only_the_path(spark):
    df = spark.createDataFrame([("Local save in /data/home-decor",), ("/data/art",), (None,)], "save_location string")
    expected = spark.createDataFrame([("/data/home-decor",), ("/data/art",), (None,)], "save_location string")
    assertDataFrameEqual(df.transform(strip_save_location_prefix), expected)


def test_both_datetime_forms_parse_and_garbage_becomes_null(spark):
    df = spark.createDataFrame(
        [("2020-08-28T03:52:47",), ("2020-08-28 03:52:47",), ("28/08/2020",), ("",), (None,)], "timestamp string"
    )
    moment = datetime(2020, 8, 28, 3, 52, 47)
    expected = spark.createDataFrame([(moment,), (moment,), (None,), (None,), (None,)], "timestamp timestamp")
    assertDataFrameEqual(df.transform(parse_datetimes, ["timestamp"]), expected)


def test_coordinates_combine_latitude_then_longitude(spark):
    df = spark.createDataFrame([(1, -45.5, 170.25), (2, None, None)], "ind int, latitude double, longitude double")
    expected = spark.createDataFrame([(1, [-45.5, 170.25]), (2, None)], "ind int, coordinates array<double>")
    assertDataFrameEqual(df.transform(combine_coordinates), expected)


def test_user_name_joins_first_and_last_name(spark):
    df = spark.createDataFrame(
        [(1, "Zoë", "Ünal"), (2, None, "Smith"), (3, None, None)], "ind int, first_name string, last_name string"
    )
    expected = spark.createDataFrame([(1, "Zoë Ünal"), (2, "Smith"), (3, None)], "ind int, user_name string")
    assertDataFrameEqual(df.transform(combine_user_name), expected)


def test_clean_pin_gives_the_silver_columns_in_spec_order(spark):
    failed_scrape = (
        7,
        "uuid-7",
        "No Title Data Available",
        "No description available Story format",
        "User Info Error",
        "User Info Error",
        "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e",
        "image",
        "Image src error.",
        0,
        "Local save in /data/travel",
        "travel",
    )
    good = (
        8,
        "uuid-8",
        "Café 🍰",
        "  ",
        "Chef",
        "1.5k",
        "food,cake",
        "video",
        "http://i/8.jpg",
        1,
        "Local save in /data/art",
        "art",
    )
    df = spark.createDataFrame([failed_scrape, good], SOURCE_SCHEMAS["pin"])
    expected = spark.createDataFrame(
        [
            (7, "uuid-7", None, None, None, None, None, "image", None, "/data/travel", "travel", 0),
            (8, "uuid-8", "Café 🍰", None, 1500, "Chef", "food,cake", "video", "http://i/8.jpg", "/data/art", "art", 1),
        ],
        SILVER_SCHEMAS["pin"],
    )
    assertDataFrameEqual(clean("pin", df), expected)


def test_clean_geo_and_user(spark):
    geo = spark.createDataFrame(
        [
            (1, "2020-08-28T03:52:47", 10.0, -20.0, "Antarctica (the territory South of 60 deg S)"),
            (2, "2019-01-02 03:04:05", 0.0, 0.0, " "),
        ],
        SOURCE_SCHEMAS["geo"],
    )
    assertDataFrameEqual(
        clean("geo", geo),
        spark.createDataFrame(
            [
                (1, "Antarctica (the territory South of 60 deg S)", [10.0, -20.0], datetime(2020, 8, 28, 3, 52, 47)),
                (2, None, [0.0, 0.0], datetime(2019, 1, 2, 3, 4, 5)),
            ],
            SILVER_SCHEMAS["geo"],
        ),
    )
    user = spark.createDataFrame(
        [(1, "Ann", "Lee", 16, "2015-03-04 05:06:07"), (2, "Bo", "", 40, "2017-12-31T23:59:59")],
        SOURCE_SCHEMAS["user"],
    )
    assertDataFrameEqual(
        clean("user", user),
        spark.createDataFrame(
            [(1, "Ann Lee", 16, datetime(2015, 3, 4, 5, 6, 7)), (2, "Bo", 40, datetime(2017, 12, 31, 23, 59, 59))],
            SILVER_SCHEMAS["user"],
        ),
    )


def test_clean_rejects_an_unknown_table(spark):
    with pytest.raises(ValueError, match="table must be one of"):
        clean("board", spark.range(1))
