"""The HTML report is one self-contained page with charts in reading order (no Spark needed)."""

from __future__ import annotations

from datetime import UTC, datetime

from include.pinterest.lake import GOLD_TABLES
from include.pinterest.spark.report import render_report


def test_report_orders_age_groups_and_escapes_text():
    gold = {name: [] for name in GOLD_TABLES}
    gold["median_followers_by_age_group"] = [
        {"age_group": "+50", "median_follower_count": 3.0},
        {"age_group": "18-24", "median_follower_count": 1.5},
    ]
    gold["category_by_country"] = [{"country": "Côte d'Ivoire <b>", "category": "art", "category_count": 2}]
    page = render_report(gold, datetime(2026, 1, 1, tzinfo=UTC))
    assert page.index(">18-24<") < page.index(">+50<")
    assert "Côte d&#x27;Ivoire &lt;b&gt;: art" in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
