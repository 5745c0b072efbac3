"""The source generator: deterministic, with the shares and kinds of dirt of spec §2."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime
from itertools import islice
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from include.pinterest.records import CATEGORIES, validation_problem
from include.pinterest.source import SourceExists, generate_posts, write_source
from include.pinterest.source.__main__ import main as source_cli
from include.pinterest.source.generator import (
    PLACEHOLDER_DESCRIPTIONS,
    PLACEHOLDER_IMAGE,
    PLACEHOLDER_TAGS,
    PLACEHOLDER_TITLE,
    PLACEHOLDER_USER,
)
from include.pinterest.source.tables import SOURCE_TABLES

N = 20_000


@pytest.fixture(scope="module")
def posts() -> list[tuple[dict, dict, dict]]:
    return list(generate_posts(N, seed=42))


def test_same_seed_same_rows() -> None:
    assert list(generate_posts(300, seed=1)) == list(generate_posts(300, seed=1))


def test_different_seed_different_rows() -> None:
    first, second = list(generate_posts(300, seed=1)), list(generate_posts(300, seed=2))
    assert sum(a != b for a, b in zip(first, second, strict=True)) > 290


def test_one_index_is_one_post(posts) -> None:
    for index, (pin, geo, user) in enumerate(islice(posts, 1000)):
        assert pin["index"] == geo["ind"] == user["ind"] == index


def test_every_row_is_valid_api_input(posts) -> None:
    for pin, geo, user in islice(posts, 2000):
        assert validation_problem("pin", pin) is None
        assert validation_problem("geo", {**geo, "timestamp": geo["timestamp"].isoformat()}) is None
        assert validation_problem("user", {**user, "date_joined": user["date_joined"].isoformat(sep=" ")}) is None


def test_follower_count_shares(posts) -> None:
    kinds = Counter()
    for pin, _, _ in posts:
        value = pin["follower_count"]
        if value == PLACEHOLDER_USER:
            kinds["placeholder"] += 1
        elif re.fullmatch(r"\d+(\.\d+)?k", value):
            kinds["k"] += 1
        elif re.fullmatch(r"\d+(\.\d+)?M", value):
            kinds["M"] += 1
        else:
            assert re.fullmatch(r"\d+", value), value
            kinds["digits"] += 1
    shares = {kind: count / N for kind, count in kinds.items()}
    assert shares["k"] == pytest.approx(0.74, abs=0.02)
    assert shares["digits"] == pytest.approx(0.17, abs=0.015)
    assert shares["M"] == pytest.approx(0.07, abs=0.015)
    assert shares["placeholder"] == pytest.approx(0.015, abs=0.006)
    assert any("." in pin["follower_count"] and pin["follower_count"].endswith("k") for pin, _, _ in posts)


def test_failed_scrapes_have_every_placeholder(posts) -> None:
    failed = [pin for pin, _, _ in posts if pin["downloaded"] == 0]
    assert 0.01 <= len(failed) / N <= 0.02
    for pin in failed:
        assert pin["title"] == PLACEHOLDER_TITLE
        assert pin["description"] in PLACEHOLDER_DESCRIPTIONS
        assert pin["poster_name"] == pin["follower_count"] == PLACEHOLDER_USER
        assert pin["tag_list"] == PLACEHOLDER_TAGS
        assert pin["image_src"] == PLACEHOLDER_IMAGE


def test_individual_placeholders_on_good_rows(posts) -> None:
    good = [pin for pin, _, _ in posts if pin["downloaded"] == 1]
    assert any(pin["title"] == PLACEHOLDER_TITLE for pin in good)
    assert {pin["description"] for pin in good} >= set(PLACEHOLDER_DESCRIPTIONS)
    assert any(pin["tag_list"] == PLACEHOLDER_TAGS for pin in good)
    assert any(pin["image_src"] == PLACEHOLDER_IMAGE for pin in good)


def test_text_has_other_scripts_and_emoji(posts) -> None:
    titles = " ".join(pin["title"] for pin, _, _ in islice(posts, 2000))
    assert any(ord(ch) > 0x2000 for ch in titles)  # CJK, Cyrillic or emoji
    assert any(ord(ch) >= 0x1F300 for ch in titles)  # emoji


def test_categories_and_save_location(posts) -> None:
    assert {pin["category"] for pin, _, _ in posts} == set(CATEGORIES)
    for pin, _, _ in islice(posts, 500):
        assert pin["save_location"] == f"Local save in /data/{pin['category']}"


def test_ages_and_dates(posts) -> None:
    ages = [user["age"] for _, _, user in posts]
    under_18 = sum(age < 18 for age in ages) / N
    assert 0.01 <= under_18 <= 0.03
    assert all(13 <= age <= 75 for age in ages)
    assert {geo["timestamp"].year for _, geo, _ in posts} == set(range(2017, 2023))
    assert {user["date_joined"].year for _, _, user in posts} == {2015, 2016, 2017}
    assert all(-90 <= geo["latitude"] <= 90 and -180 <= geo["longitude"] <= 180 for _, geo, _ in posts)
    assert "Antarctica (the territory South of 60 deg S)" in {geo["country"] for _, geo, _ in posts}


def test_write_is_idempotent_and_replace_is_explicit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'source.db'}"
    assert write_source(url, rows=300, seed=3).created
    assert not write_source(url, rows=300, seed=3).created
    with pytest.raises(SourceExists, match="--replace"):
        write_source(url, rows=200, seed=3)
    assert write_source(url, rows=200, seed=3, replace=True).created
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            name: conn.execute(select(func.count()).select_from(t)).scalar_one() for name, t in SOURCE_TABLES.items()
        }
        first_geo = conn.execute(select(SOURCE_TABLES["geo"]).limit(1)).one()
    engine.dispose()
    assert counts == {"pin": 200, "geo": 200, "user": 200}
    assert isinstance(first_geo.timestamp, datetime)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert source_cli(["--url", url, "--rows", "50", "--seed", "9"]) == 0
    assert '"created": true' in capsys.readouterr().out
    assert source_cli(["--url", url, "--rows", "50", "--seed", "9"]) == 0
    assert '"created": false' in capsys.readouterr().out
    assert source_cli(["--url", url, "--rows", "60", "--seed", "9"]) == 2
