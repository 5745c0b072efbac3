"""The nine answers of spec §5 as a page people read: one small chart per question with a one-line takeaway
computed from the gold rows, and the run's reconciliation when a summary is given.

Pure Python (no Spark): the batch job writes it as ``gold/report.html``, the Airflow UI's pipeline page serves it
and Databricks shows it with ``displayHTML``. Charts are inline SVG: no scripts, no CDN, nothing to fetch. Long
answers (one row per country) are cut to the top few with the rest grouped into one bar; every row stays in a
folded table under its chart.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

Rows = list[dict[str, Any]]
Bar = tuple[str, float]

TOP_N = 8
_ACCENT, _MUTED, _REST = "#e60023", "#f2a3b3", "#bbbbbb"
_SERIES = ("#e60023", "#f28c28", "#2a9d8f", "#264653")

STYLE = """
.pin-report{font-family:system-ui,sans-serif;color:#222;max-width:1100px}
.pin-report h2{margin:1.4em 0 .4em;font-size:1.25em}
.pin-report .answers{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:16px}
.pin-report figure{margin:0;padding:12px 14px;border:1px solid #e3e3e3;border-radius:8px;background:#fff}
.pin-report figcaption{font-weight:600;margin-bottom:2px}
.pin-report .takeaway{margin:0 0 8px;color:#444}
.pin-report .note{margin:0 0 10px;color:#666}
.pin-report svg{width:100%;height:auto;font-size:12px}
.pin-report table{border-collapse:collapse;margin:.4em 0 1em;font-size:.92em}
.pin-report caption{text-align:left;padding:2px 0;color:#444}
.pin-report td,.pin-report th{border:1px solid #ddd;padding:2px 8px;text-align:left}
.pin-report td.n{text-align:right;font-variant-numeric:tabular-nums}
.pin-report th{background:#f6f6f6}
.pin-report .bad{color:#b00020;font-weight:600}
.pin-report .ok{color:#1b7f3b}
.pin-report details{margin-top:6px;font-size:.9em}
"""


@dataclass(frozen=True)
class Answer:
    """One question answered: its chart and the sentence a reader takes away; ``rows`` is the whole table."""

    question: str
    takeaway: str
    chart: str
    rows: Rows


# --- numbers and grouping -------------------------------------------------------------------------------------


def compact(value: float | None) -> str:
    """``1234567`` -> ``1.2M``, ``48500`` -> ``48.5k``, ``950`` -> ``950``: follower counts at a glance."""
    if value is None:
        return "—"
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}".removesuffix(".0") + suffix
    return f"{value:.1f}".removesuffix(".0")


def top_n(bars: Sequence[Bar], n: int, rest: Callable[[int], str], combine: Callable[[list[float]], float] = sum):
    """The ``n`` largest bars (ties by label), the others as one bar labelled ``rest(count)`` valued
    ``combine(values)``; a single leftover bar is kept as itself, since grouping it hides nothing."""
    ranked = sorted(bars, key=lambda bar: (-bar[1], bar[0]))
    if len(ranked) <= n + 1:
        return ranked
    others = ranked[n:]
    return [*ranked[:n], (rest(len(others)), combine([value for _, value in others]))]


def age_order(group: str) -> int:
    """Age groups youngest first (``18-24`` before ``+50``), read from the group's first number."""
    found = re.search(r"\d+", group)
    return int(found.group()) if found else 0


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "—"


def _winners(rows: Rows, group: str, where: str) -> str:
    """``art leads in 18-24 and 25-35; travel in +50``: each winning category with the groups it wins, the one
    that wins most first; ``art leads in every <where>`` when one category wins them all."""
    by_category: dict[str, list[str]] = {}
    for row in rows:
        by_category.setdefault(row["category"], []).append(str(row[group]))
    ranked = sorted(by_category.items(), key=lambda item: -len(item[1]))
    if len(ranked) == 1:
        return f"{ranked[0][0]} leads in every {where}."
    (first, groups), *rest = ranked
    return f"{first} leads in {_names(groups)}; " + "; ".join(f"{c} in {_names(g)}" for c, g in rest) + "."


def _names(items: Iterable[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# --- charts ---------------------------------------------------------------------------------------------------


def _esc(value: object) -> str:
    return html.escape(str(value))


def _fit(text: str, width: int) -> str:
    """At most ``width`` characters, cut with an ellipsis (the full text stays in the folded table)."""
    return text if len(text) <= width else text[: width - 1] + "…"


def bar_chart(bars: Sequence[Bar], label: str, notes: Mapping[str, str] | None = None, grouped: str = "") -> str:
    """Horizontal bars, largest first in the order given; the first is highlighted, a ``grouped`` bar greyed.
    ``notes`` adds a word after a bar's value (e.g. the category a country's count is of)."""
    notes = notes or {}
    width, label_w, row = 560, 190, 22
    values = [compact(value) + (f" {_fit(notes[name], 18)}" if name in notes else "") for name, value in bars]
    # The longest value text must fit right of the longest bar (about 7 px a character at the chart's 12 px).
    plot = width - label_w - 10 - 7 * max(map(len, values), default=0)
    top = max((value for _, value in bars), default=0) or 1
    height = row * len(bars) + 6
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}">']
    for i, ((name, value), shown) in enumerate(zip(bars, values, strict=True)):
        y = 3 + i * row
        length = max(2.0, plot * value / top)
        fill = _REST if name == grouped else (_ACCENT if i == 0 else _MUTED)
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end"><title>{_esc(name)}</title>{_esc(_fit(name, 27))}'
            "</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{length:.1f}" height="{row - 6}" rx="2" fill="{fill}"/>'
            f'<text x="{label_w + length + 5:.1f}" y="{y + 15}">{_esc(shown)}</text>'
        )
    return "".join(parts) + "</svg>"


def column_chart(columns: Sequence[tuple[str, float, str]], label: str) -> str:
    """Vertical columns in the order given (years, age groups), each with its value above and an optional note
    (e.g. the winning category) under its label; the tallest is highlighted."""
    width, height, base, gap = 560, 210, 170, 14
    top = max((value for _, value, _ in columns), default=0) or 1
    step = width / max(len(columns), 1)
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}">']
    for i, (name, value, note) in enumerate(columns):
        x = i * step + gap / 2
        tall = max(2.0, (base - 30) * value / top)
        fill = _ACCENT if value == top else _MUTED
        middle = x + (step - gap) / 2
        parts.append(
            f'<rect x="{x:.1f}" y="{base - tall:.1f}" width="{step - gap:.1f}" height="{tall:.1f}" rx="2" fill="{fill}"/>'
            f'<text x="{middle:.1f}" y="{base - tall - 5:.1f}" text-anchor="middle">{_esc(compact(value))}</text>'
            f'<text x="{middle:.1f}" y="{base + 15}" text-anchor="middle">{_esc(name)}</text>'
            f'<text x="{middle:.1f}" y="{base + 31}" text-anchor="middle" fill="#666">{_esc(note)}</text>'
        )
    return "".join(parts) + "</svg>"


def grouped_columns(groups: Sequence[str], series: Sequence[str], values: Mapping[tuple[str, str], float], label: str):
    """One cluster of columns per group (joining year), one colour per series (age group), with a legend."""
    width, height, base = 560, 220, 170
    top = max(values.values(), default=0) or 1
    step = width / max(len(groups), 1)
    column = (step - 16) / max(len(series), 1)
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{_esc(label)}">']
    for g, group in enumerate(groups):
        for s, name in enumerate(series):
            if (group, name) not in values:
                continue
            tall = max(2.0, (base - 20) * values[group, name] / top)
            x = g * step + 8 + s * column
            parts.append(
                f'<rect x="{x:.1f}" y="{base - tall:.1f}" width="{column - 2:.1f}" height="{tall:.1f}" '
                f'fill="{_SERIES[s % len(_SERIES)]}"><title>{_esc(f"{group} {name}: {compact(values[group, name])}")}'
                "</title></rect>"
                f'<text x="{x + (column - 2) / 2:.1f}" y="{base - tall - 3:.1f}" text-anchor="middle" font-size="10">'
                f"{_esc(compact(values[group, name]))}</text>"
            )
        parts.append(f'<text x="{g * step + step / 2:.1f}" y="{base + 15}" text-anchor="middle">{_esc(group)}</text>')
    for s, name in enumerate(series):
        x = 10 + s * 110
        parts.append(
            f'<rect x="{x}" y="{height - 16}" width="10" height="10" fill="{_SERIES[s % len(_SERIES)]}"/>'
            f'<text x="{x + 14}" y="{height - 7}">{_esc(name)}</text>'
        )
    return "".join(parts) + "</svg>"


def rows_table(rows: Rows) -> str:
    """Every row of one gold table, numbers right-aligned."""
    if not rows:
        return "<p>No rows.</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)

    def cell(value: object) -> str:
        if isinstance(value, int | float):
            return (
                f'<td class="n">{value:,.0f}</td>' if float(value).is_integer() else f'<td class="n">{value:,.1f}</td>'
            )
        return f"<td>{_esc(value)}</td>"

    body = "".join("<tr>" + "".join(cell(row[c]) for c in columns) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# --- the nine answers -----------------------------------------------------------------------------------------


def category_by_country(rows: Rows) -> Answer:
    """#1: a country list is long, so the chart counts the countries each category wins."""
    wins = Counter(r["category"] for r in rows)
    bars = top_n(list(wins.items()), TOP_N, lambda k: f"{k} other categories")
    leader, countries = bars[0] if bars else ("", 0)
    takeaway = (
        f"{leader} is the most popular category in {countries} of {len(rows)} countries ({_share(countries, len(rows))})."
        if rows
        else ""
    )
    chart = bar_chart(bars, "countries per winning category", grouped=bars[-1][0] if len(wins) > len(bars) else "")
    return Answer("Most popular category in each country", takeaway, chart, rows)


def category_by_year(rows: Rows) -> Answer:
    """#2: a trend, one column per year with the year's winning category under it."""
    rows = sorted(rows, key=lambda r: r["post_year"])
    columns = [(str(r["post_year"]), r["category_count"], r["category"]) for r in rows]
    takeaway = _winners(rows, "post_year", "year") if rows else ""
    return Answer("Most popular category each year", takeaway, column_chart(columns, "posts of the top category"), rows)


def top_poster_by_country(rows: Rows) -> Answer:
    """#3a: the countries with the best-followed top posters; the rest as one bar at their highest count."""
    by_country = {r["country"]: r for r in rows}
    bars = top_n(
        [(r["country"], r["follower_count"]) for r in rows], TOP_N, lambda k: f"{k} other countries (highest)", max
    )
    notes = {name: f"({by_country[name]['poster_name']})" for name, _ in bars if name in by_country}
    takeaway = ""
    if rows:
        first = by_country[bars[0][0]]
        takeaway = (
            f"{first['poster_name']} ({first['country']}) has {compact(first['follower_count'])} followers, "
            f"the most of any country's top poster."
        )
    chart = bar_chart(
        bars, "followers of each country's top poster", notes, grouped=bars[-1][0] if len(bars) > TOP_N else ""
    )
    return Answer("The poster with the most followers in each country", takeaway, chart, rows)


def top_country_by_followers(rows: Rows) -> Answer:
    """#3b: one row, so the answer is the sentence and one bar."""
    row = rows[0] if rows else None
    takeaway = f"{row['country']}: its top poster has {compact(row['follower_count'])} followers." if row else ""
    chart = bar_chart([(row["country"], row["follower_count"])], "top country") if row else ""
    return Answer("The country whose top poster has the most followers", takeaway, chart, rows)


def category_by_age_group(rows: Rows) -> Answer:
    """#4: one column per age group, youngest first, with the group's winning category under it."""
    rows = sorted(rows, key=lambda r: age_order(r["age_group"]))
    columns = [(r["age_group"], r["category_count"], r["category"]) for r in rows]
    takeaway = _winners(rows, "age_group", "age group") if rows else ""
    return Answer(
        "Most popular category in each age group", takeaway, column_chart(columns, "posts of the top category"), rows
    )


def _median_extremes(rows: Rows, key: str, subject: Callable[[object], str]) -> str:
    """Which group has the highest median and which the lowest, and by what factor they differ."""
    if not rows:
        return ""
    high = max(rows, key=lambda r: r["median_follower_count"])
    low = min(rows, key=lambda r: r["median_follower_count"])
    if high["median_follower_count"] == low["median_follower_count"]:
        return f"The median follower count is {compact(high['median_follower_count'])} in every group."
    ratio = high["median_follower_count"] / low["median_follower_count"] if low["median_follower_count"] else 0
    factor = f", {ratio:.1f}".removesuffix(".0") + "x lower" if ratio else ""
    return (
        f"{subject(high[key])} the highest median ({compact(high['median_follower_count'])}); "
        f"{low[key]} the lowest ({compact(low['median_follower_count'])}{factor})."
    )


def median_followers_by_age_group(rows: Rows) -> Answer:
    """#5: medians per age group, youngest first."""
    rows = sorted(rows, key=lambda r: age_order(r["age_group"]))
    columns = [(r["age_group"], r["median_follower_count"], "") for r in rows]
    takeaway = _median_extremes(rows, "age_group", lambda group: f"Age group {group} has")
    return Answer("Median follower count in each age group", takeaway, column_chart(columns, "median followers"), rows)


def users_joined_by_year(rows: Rows) -> Answer:
    """#6: sign-ups per year, a trend."""
    rows = sorted(rows, key=lambda r: r["post_year"])
    columns = [(str(r["post_year"]), r["number_users_joined"], "") for r in rows]
    takeaway = ""
    if rows:
        best = max(rows, key=lambda r: (r["number_users_joined"], -r["post_year"]))
        total = sum(r["number_users_joined"] for r in rows)
        takeaway = (
            f"{total:,} users joined {rows[0]['post_year']}-{rows[-1]['post_year']}; the most in {best['post_year']} "
            f"({best['number_users_joined']:,}, {_share(best['number_users_joined'], total)})."
        )
    return Answer("Users who joined each year", takeaway, column_chart(columns, "users joined"), rows)


def median_followers_by_join_year(rows: Rows) -> Answer:
    """#7: medians per joining year, a trend."""
    rows = sorted(rows, key=lambda r: r["post_year"])
    columns = [(str(r["post_year"]), r["median_follower_count"], "") for r in rows]
    takeaway = _median_extremes(rows, "post_year", lambda year: f"Users who joined in {year} have")
    return Answer("Median follower count by joining year", takeaway, column_chart(columns, "median followers"), rows)


def median_followers_by_join_year_and_age_group(rows: Rows) -> Answer:
    """#8: joining years as clusters, age groups as colours; the takeaway names the group that leads most years."""
    years = sorted({str(r["post_year"]) for r in rows})
    groups = sorted({r["age_group"] for r in rows}, key=age_order)
    values = {(str(r["post_year"]), r["age_group"]): r["median_follower_count"] for r in rows}
    takeaway = ""
    if rows:
        leaders = Counter(
            max((g for g in groups if (year, g) in values), key=lambda g: values[year, g]) for year in years
        )
        leader, count = leaders.most_common(1)[0]
        best = max(rows, key=lambda r: r["median_follower_count"])
        takeaway = (
            f"{leader} has the highest median in {'every' if count == len(years) else f'{count} of {len(years)}'} "
            f"joining year{'s' if len(years) > 1 else ''}; the highest of all: {best['age_group']} who joined in "
            f"{best['post_year']} ({compact(best['median_follower_count'])})."
        )
    chart = grouped_columns(years, groups, values, "median followers by joining year and age group")
    return Answer("Median follower count by joining year and age group", takeaway, chart, rows)


ANSWERS: dict[str, Callable[[Rows], Answer]] = {
    "category_by_country": category_by_country,
    "category_by_year": category_by_year,
    "top_poster_by_country": top_poster_by_country,
    "top_country_by_followers": top_country_by_followers,
    "category_by_age_group": category_by_age_group,
    "median_followers_by_age_group": median_followers_by_age_group,
    "users_joined_by_year": users_joined_by_year,
    "median_followers_by_join_year": median_followers_by_join_year,
    "median_followers_by_join_year_and_age_group": median_followers_by_join_year_and_age_group,
}


def read_gold(lake, storage_options: dict[str, str] | None) -> dict[str, Rows]:
    """The gold tables present in ``lake`` (addressed for delta-rs) as rows, for readers without Spark (the UI
    page); they are small: one row per country, year or group."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    from include.pinterest.lake import GOLD_TABLES

    gold = {}
    for name in GOLD_TABLES:
        try:
            gold[name] = DeltaTable(lake.gold(name), storage_options=storage_options).to_pyarrow_table().to_pylist()
        except TableNotFoundError:
            continue
    return gold


def answers(gold: Mapping[str, Rows]) -> list[Answer]:
    """The answers of the gold tables present, in the spec's order."""
    return [answer(gold[name]) for name, answer in ANSWERS.items() if name in gold]


# --- the run's reconciliation ---------------------------------------------------------------------------------

API_FIGURES = (
    ("sent", "sent", "{:,}"),
    ("accepted", "accepted", "{:,}"),
    ("rejected", "rejected (invalid)", "{:,}"),
    ("failed", "failed after retries", "{:,}"),
    ("retried", "retried", "{:,}"),
    ("events_per_s", "events/s", "{:,.1f}"),
    ("latency_p50_ms", "latency p50 (ms)", "{:,.1f}"),
    ("latency_p99_ms", "latency p99 (ms)", "{:,.1f}"),
)


def _stage_cell(stage: Mapping[str, Any] | None) -> str:
    if stage is None:
        return "<td>—</td>"
    if stage.get("posts") is None:
        return f"<td>not checked{_esc(' (' + stage['note'] + ')') if stage.get('note') else ''}</td>"
    missing = stage.get("missing_accepted_posts", 0)
    flag = f' <span class="bad">{missing:,} missing</span>' if missing else ' <span class="ok">none missing</span>'
    return f'<td class="n">{stage["posts"]:,}{flag}</td>'


def _stage_matrix(stages: Mapping[str, Mapping[str, Any]], title: str) -> str:
    """Stages (``kafka.pin`` ...) as rows of a layer and columns of a table."""
    layers = list(dict.fromkeys(name.split(".", 1)[0] for name in stages))
    tables = list(dict.fromkeys(name.split(".", 1)[1] for name in stages))
    head = "".join(f"<th>{_esc(t)}</th>" for t in tables)
    body = "".join(
        f"<tr><th>{_esc(layer)}</th>" + "".join(_stage_cell(stages.get(f"{layer}.{t}")) for t in tables) + "</tr>"
        for layer in layers
    )
    return (
        f"<table><caption>{_esc(title)}</caption><thead><tr><th></th>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def reconciliation_takeaway(summary: Mapping[str, Any]) -> str:
    """One sentence: whether every accepted post reached every stage, or where posts are missing."""
    parts = []
    for accepted, stages, path, mode in (
        (summary.get("accepted_posts", 0), summary.get("stages", {}), "Kafka, bronze and silver", "batch"),
        (
            summary.get("stream", {}).get("accepted_posts", 0),
            summary.get("stream", {}).get("stages", {}),
            "the stream tables",
            "stream",
        ),
    ):
        missing = {name: s["missing_accepted_posts"] for name, s in stages.items() if s.get("missing_accepted_posts")}
        if missing:
            parts.append(f"posts missing at {_names([f'{name} ({count:,})' for name, count in missing.items()])}")
        elif accepted:
            parts.append(f"all {accepted:,} accepted {mode} posts reached {path}")
    return (parts[0][0].upper() + "; ".join(parts)[1:] + ".") if parts else "No posts were accepted in this run."


def render_reconciliation(summary: Mapping[str, Any]) -> str:
    """Posts per stage with what is missing, the API's figures per mode, the stream tables' rows and lag."""
    stream = summary.get("stream", {})
    api = summary.get("api", {})
    modes = list(api)
    api_rows = "".join(
        f"<tr><th>{_esc(label)}</th>"
        + "".join(
            f'<td class="n">{fmt.format(api[m][key]) if api[m].get(key) is not None else "—"}</td>' for m in modes
        )
        + "</tr>"
        for key, label, fmt in API_FIGURES
    )
    api_table = (
        "<table><caption>Ingestion API (emulator): events, not posts (the emulator samples posts with replacement, "
        "so one can be sent twice)</caption><thead><tr><th></th>"
        + "".join(f"<th>{_esc(m)}</th>" for m in modes)
        + f"</tr></thead><tbody>{api_rows}</tbody></table>"
        if modes
        else "<p>The emulator posted nothing in this run.</p>"
    )
    lag = stream.get("millis_behind_latest", {})
    stream_rows = "".join(
        f"<tr><th>{_esc(name)}</th>{_stage_cell(stage)}"
        f'<td class="n">{_esc(lag[name.split(".", 1)[1]]) if lag.get(name.split(".", 1)[1]) is not None else "—"}</td></tr>'
        for name, stage in stream.get("stages", {}).items()
    )
    stream_table = (
        "<table><caption>Stream tables: rows (the whole table) and how many of this run's "
        f"{stream.get('accepted_posts', 0):,} accepted stream posts are missing</caption>"
        f"<thead><tr><th>table</th><th>rows</th><th>lag behind the stream (ms)</th></tr></thead><tbody>{stream_rows}"
        "</tbody></table>"
    )
    batch = _stage_matrix(
        summary.get("stages", {}),
        "Posts in each stage (Kafka and bronze: written since this run began posting; silver: the whole table) and "
        f"how many of this run's {summary.get('accepted_posts', 0):,} accepted batch posts are missing",
    )
    return (
        f'<h2>This run</h2><p class="takeaway">{_esc(reconciliation_takeaway(summary))}</p>'
        f"{batch}{stream_table}{api_table}"
    )


# --- the page -------------------------------------------------------------------------------------------------


def render_answer(answer: Answer) -> str:
    chart = answer.chart if answer.rows else "<p>No rows yet: the analyse step has not written this table.</p>"
    return (
        f'<figure><figcaption>{_esc(answer.question)}</figcaption><p class="takeaway">{_esc(answer.takeaway)}</p>'
        f"{chart}<details><summary>All {len(answer.rows):,} rows</summary>{rows_table(answer.rows)}</details></figure>"
    )


def render_fragment(
    gold: Mapping[str, Rows] | None, summary: Mapping[str, Any] | None = None, answers_note: str = ""
) -> str:
    """The report as one ``<div>`` with its own style: for a page of its own, the UI page or ``displayHTML``.
    ``answers_note`` says under the answers' heading where they come from (the UI page: not from the run shown)."""
    parts = [f'<div class="pin-report"><style>{STYLE}</style>']
    if summary:
        parts.append(render_reconciliation(summary))
    if gold:
        note = f'<p class="note">{_esc(answers_note)}</p>' if answers_note else ""
        parts.append(f'<h2>The nine answers</h2>{note}<div class="answers">')
        parts.extend(render_answer(answer) for answer in answers(gold))
        parts.append("</div>")
    else:
        parts.append("<p>No gold tables yet.</p>")
    return "".join(parts) + "</div>"


def render_report(
    gold: Mapping[str, Rows] | None,
    summary: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
    title: str = "Pinterest post analytics",
    header: str = "",
    answers_note: str = "",
) -> str:
    """A whole self-contained HTML document: ``header`` (trusted HTML, e.g. the UI's run picker) above the report."""
    generated_at = generated_at or datetime.now(UTC)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title></head>'
        f'<body style="margin:1.5em;background:#fafafa"><h1 style="font-family:system-ui,sans-serif">{_esc(title)}</h1>'
        f'{header}<p style="font-family:system-ui,sans-serif;color:#666">Generated {generated_at:%Y-%m-%d %H:%M:%S} UTC '
        "from the gold tables.</p>"
        f"{render_fragment(gold, summary, answers_note)}</body></html>"
    )
