"""The report: answers a reader takes in at a glance, with takeaways computed from the rows (no Spark needed)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from include.pinterest import report
from include.pinterest.lake import GOLD_TABLES


def _gold(**tables) -> dict[str, list[dict]]:
    return {name: tables.get(name, []) for name in GOLD_TABLES}


def _bars(svg: str) -> int:
    return svg.count("<rect")


def test_top_n_keeps_the_largest_and_groups_the_rest():
    bars = [(f"c{i:02}", float(i)) for i in range(12)]
    assert report.top_n(bars, 3, lambda k: f"{k} others") == [("c11", 11), ("c10", 10), ("c09", 9), ("9 others", 36)]
    assert report.top_n(bars, 3, lambda k: f"{k} others", max)[-1] == ("9 others", 8)
    assert report.top_n([("b", 1), ("a", 1), ("c", 2)], 2, str) == [("c", 2), ("a", 1), ("b", 1)]  # one left: kept


def test_compact_numbers_and_age_groups_in_reading_order():
    assert [report.compact(v) for v in (950, 1000, 48500, 1_250_000, 7.5)] == ["950", "1k", "48.5k", "1.2M", "7.5"]
    assert sorted(["+50", "36-50", "18-24", "25-35"], key=report.age_order) == ["18-24", "25-35", "36-50", "+50"]


def test_238_countries_become_a_few_bars_and_the_takeaway_counts_them():
    categories = ["travel"] * 120 + ["art"] * 60 + [f"cat{i}" for i in range(58)]
    rows = [{"country": f"country {i}", "category": c, "category_count": 5} for i, c in enumerate(categories)]
    answer = report.category_by_country(rows)
    assert answer.takeaway == "travel is the most popular category in 120 of 238 countries (50%)."
    assert _bars(answer.chart) == report.TOP_N + 1 and "52 other categories" in answer.chart
    assert len(answer.rows) == 238  # every row is still in the folded table


def test_takeaways_follow_the_data():
    years = [
        {"post_year": 2019, "category": "art", "category_count": 3},
        {"post_year": 2018, "category": "travel", "category_count": 5},
        {"post_year": 2020, "category": "travel", "category_count": 4},
    ]
    assert report.category_by_year(years).takeaway == "travel leads in 2018 and 2020; art in 2019."
    assert report.category_by_year([{**r, "category": "art"} for r in years]).takeaway == "art leads in every year."

    medians = [
        {"age_group": "+50", "median_follower_count": 1000.0},
        {"age_group": "18-24", "median_follower_count": 50000.0},
        {"age_group": "25-35", "median_follower_count": 20000.0},
    ]
    answer = report.median_followers_by_age_group(medians)
    assert answer.takeaway == "Age group 18-24 has the highest median (50k); +50 the lowest (1k, 50x lower)."
    assert answer.chart.index(">18-24<") < answer.chart.index(">25-35<") < answer.chart.index(">+50<")

    joined = [{"post_year": 2015, "number_users_joined": 30}, {"post_year": 2016, "number_users_joined": 70}]
    assert report.users_joined_by_year(joined).takeaway == "100 users joined 2015-2016; the most in 2016 (70, 70%)."

    posters = [{"country": f"c{i}", "poster_name": f"p{i}", "follower_count": 1000 * i} for i in range(1, 21)]
    answer = report.top_poster_by_country(posters)
    assert answer.takeaway.startswith("p20 (c20) has 20k followers")
    assert _bars(answer.chart) == report.TOP_N + 1 and "12 other countries (highest)" in answer.chart

    by_year_and_age = [
        {"post_year": y, "age_group": g, "median_follower_count": m}
        for y, g, m in [(2015, "18-24", 9.0), (2015, "+50", 1.0), (2016, "18-24", 3.0), (2016, "+50", 4.0)]
    ]
    assert report.median_followers_by_join_year_and_age_group(by_year_and_age).takeaway == (
        "18-24 has the highest median in 1 of 2 joining years; the highest of all: 18-24 who joined in 2015 (9)."
    )


def test_the_text_right_of_the_longest_bar_fits_the_chart():
    """Real top posters are named like this one; at 12 px (about 7 px a character) the note ran off the chart."""
    posters = [{"country": "Aruba", "poster_name": "Kristin Bowman | Home Decor", "follower_count": 12_000_000}]
    chart = report.top_poster_by_country(posters).chart
    width = float(re.search(r'<rect x="190" y="\d+" width="([\d.]+)"', chart).group(1))
    text = re.search(r'<text x="[\d.]+" y="\d+">([^<]+)</text>', chart).group(1)
    assert text == "12M (Kristin Bowman |…" and 190 + width + 5 + 7 * len(text) <= 560


def _summary(missing: int = 0) -> dict:
    stage = {"posts": 100, "missing_accepted_posts": 0}
    return {
        "accepted_posts": 100,
        "stages": {
            f"{layer}.{t}": dict(stage) for layer in ("kafka", "bronze", "silver") for t in ("pin", "geo", "user")
        }
        | {"bronze.geo": {"posts": 100 - missing, "missing_accepted_posts": missing}},
        "stream": {
            "accepted_posts": 20,
            "stages": {f"stream.{t}": {"posts": 640, "missing_accepted_posts": 0} for t in ("pin", "geo", "user")},
            "millis_behind_latest": {"pin": 0, "geo": 1500, "user": None},
        },
        "api": {
            "batch": {
                "sent": 104,
                "accepted": 100,
                "rejected": 4,
                "failed": 0,
                "retried": 7,
                "events_per_s": 812.5,
                "latency_p50_ms": 11.2,
                "latency_p99_ms": 93.4,
            }
        },
    }


def test_the_reconciliation_says_what_reached_every_stage_and_what_is_missing():
    assert report.reconciliation_takeaway(_summary()) == (
        "All 100 accepted batch posts reached Kafka, bronze and silver; "
        "all 20 accepted stream posts reached the stream tables."
    )
    assert report.reconciliation_takeaway(_summary(missing=3)).startswith("Posts missing at bronze.geo (3)")
    shown = report.render_reconciliation(_summary(missing=3))
    assert '<span class="bad">3 missing</span>' in shown
    for figure in ("104", "812.5", "93.4", "640", "1500"):
        assert f">{figure}<" in shown or f">{figure} " in shown, figure


def test_the_page_is_self_contained_with_nine_answers_and_escaped_text():
    gold = _gold(
        category_by_country=[{"country": "Côte d'Ivoire <b>", "category": "art", "category_count": 2}],
        top_country_by_followers=[{"country": "Chile", "follower_count": 5_000_000}],
    )
    page = report.render_report(gold, generated_at=datetime(2026, 1, 1, tzinfo=UTC))
    assert page.startswith("<!DOCTYPE html>") and page.count("<figure>") == 9
    assert "Côte d&#x27;Ivoire &lt;b&gt;" in page and "Ivoire <b>" not in page
    assert "Chile: its top poster has 5M followers." in page
    assert "This run" not in page  # no summary given: no reconciliation
    assert "<script" not in page and not re.search(r"(?:src|href)=\"https?://", page)
    with_summary = report.render_report(gold, _summary())
    assert "This run" in with_summary and "All 100 accepted batch posts" in with_summary
    noted = report.render_report(gold, answers_note="not per run <i>")
    assert '<h2>The nine answers</h2><p class="note">not per run &lt;i&gt;</p>' in noted


def test_read_gold_reads_the_tables_present_as_rows(tmp_path):
    import pyarrow as pa
    from deltalake import write_deltalake

    from include.pinterest.lake import Lake

    lake = Lake(root=str(tmp_path), topic_prefix="test")
    rows = [{"age_group": "18-24", "median_follower_count": 1500.0}]
    write_deltalake(lake.gold("median_followers_by_age_group"), pa.Table.from_pylist(rows))
    assert report.read_gold(lake, None) == {"median_followers_by_age_group": rows}
