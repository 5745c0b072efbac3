"""The gold tables as one self-contained HTML page: inline SVG bar charts and tables, no scripts, no CDN."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import UTC, datetime

from pyspark.sql import SparkSession

from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.spark.analyses import AGE_GROUPS

Rows = list[dict]

_BAR_HEIGHT = 18
_LABEL_WIDTH = 330
_CHART_WIDTH = 900


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def bar_chart(title: str, bars: Sequence[tuple[str, float]]) -> str:
    """A horizontal SVG bar chart; each bar is labelled and carries its value."""
    if not bars:
        return f"<h3>{html.escape(title)}</h3><p>No data.</p>"
    top = max(value for _, value in bars) or 1
    plot_width = _CHART_WIDTH - _LABEL_WIDTH - 90
    height = _BAR_HEIGHT * len(bars) + 10
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_CHART_WIDTH}" height="{height}" role="img" '
        f'aria-label="{html.escape(title)}">'
    ]
    for i, (label, value) in enumerate(bars):
        y = 5 + i * _BAR_HEIGHT
        width = max(1.0, plot_width * value / top)
        parts.append(
            f'<text x="{_LABEL_WIDTH - 6}" y="{y + 13}" text-anchor="end">{html.escape(label)}</text>'
            f'<rect x="{_LABEL_WIDTH}" y="{y + 2}" width="{width:.1f}" height="{_BAR_HEIGHT - 4}" fill="#e60023"/>'
            f'<text x="{_LABEL_WIDTH + width + 4:.1f}" y="{y + 13}">{html.escape(_number(value))}</text>'
        )
    parts.append("</svg>")
    return f"<h3>{html.escape(title)}</h3>" + "".join(parts)


def table(title: str, rows: Rows) -> str:
    """A plain HTML table of one gold output."""
    if not rows:
        return f"<h3>{html.escape(title)}</h3><p>No rows.</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_number(r[c]))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<h3>{html.escape(title)}</h3><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _in_reading_order(row: dict) -> tuple:
    """Years ascending, age groups youngest first, everything else alphabetically."""
    age = AGE_GROUPS.index(row["age_group"]) if "age_group" in row else -1
    return (row.get("post_year") or 0, age, *(str(v) for v in row.values()))


def render_report(gold: dict[str, Rows], generated_at: datetime | None = None) -> str:
    """The page: category popularity by country and year, medians by age group and joining year; then every
    gold table."""
    generated_at = generated_at or datetime.now(UTC)
    gold = {name: sorted(rows, key=_in_reading_order) for name, rows in gold.items()}
    by_country = sorted(gold["category_by_country"], key=lambda r: (-r["category_count"], r["country"]))
    charts = [
        bar_chart(
            "Most popular category by country (posts of that category)",
            [(f"{r['country']}: {r['category']}", r["category_count"]) for r in by_country],
        ),
        bar_chart(
            "Most popular category by year",
            [(f"{r['post_year']}: {r['category']}", r["category_count"]) for r in gold["category_by_year"]],
        ),
        bar_chart(
            "Median follower count by age group",
            [(r["age_group"], r["median_follower_count"]) for r in gold["median_followers_by_age_group"]],
        ),
        bar_chart(
            "Median follower count by joining year",
            [(str(r["post_year"]), r["median_follower_count"]) for r in gold["median_followers_by_join_year"]],
        ),
        bar_chart(
            "Median follower count by joining year and age group",
            [
                (f"{r['post_year']} {r['age_group']}", r["median_follower_count"])
                for r in gold["median_followers_by_join_year_and_age_group"]
            ],
        ),
    ]
    tables = [table(name.replace("_", " "), gold[name]) for name in GOLD_TABLES]
    style = (
        "body{font-family:sans-serif;margin:2em;color:#222}svg text{font-size:12px}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #ccc;padding:2px 8px}"
        "th{background:#f4f4f4}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Pinterest post analytics</title>'
        f"<style>{style}</style></head><body><h1>Pinterest post analytics</h1>"
        f"<p>Generated {generated_at:%Y-%m-%d %H:%M:%S} UTC from the gold tables.</p>"
        "<h2>Charts</h2>" + "".join(charts) + "<h2>Gold tables</h2>" + "".join(tables) + "</body></html>"
    )


def read_gold(spark: SparkSession, lake: Lake) -> dict[str, Rows]:
    """Every gold table as rows (they are small: one row per country, year or group)."""
    return {
        name: [row.asDict() for row in spark.read.format("delta").load(lake.gold(name)).collect()]
        for name in GOLD_TABLES
    }


def write_text(spark: SparkSession, uri: str, text: str) -> None:
    """Write one object through Hadoop's file system, so file://, s3a:// and dbfs: all work."""
    jvm = spark._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark._jsc.hadoopConfiguration())
    stream = fs.create(path, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def write_report(spark: SparkSession, lake: Lake) -> str:
    """Render the gold tables to ``<root>/gold/report.html`` and return that URI."""
    write_text(spark, lake.report, render_report(read_gold(spark, lake)))
    return lake.report
