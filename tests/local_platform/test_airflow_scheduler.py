"""Airflow's own components on the test platform (PostgreSQL metadata database, real scheduler, executor and
triggerer): a backfill created from the REST API while a scheduled run is going is accepted at once, and the
single-writer tasks never run twice at the same time across the runs. After those runs, headless Chromium logs in
to the UI and reads the pipeline page and the report as a user sees them (screenshots in the state folder's
``artifacts/``). Also: every listening socket of every running service is on loopback."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import UTC, datetime

import boto3
import psutil
import pytest

from include.pinterest import report
from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.settings import Settings
from include.pinterest.verification import delta_storage_options
from local_platform import processes, services
from local_platform.run import DAG_ID, api_client, wait_for_dag
from tests.conftest import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(2400)]
AIRFLOW = [name for name in services.SERVICES if name.startswith("airflow-")]
SINGLE_WRITERS = ["batch.clean", "batch.analyse", "batch.report", "streaming.start_stream_job"]
BACKFILL_DATE = "2026-11-05T00:00:00Z"
SMALL = {"events": 200, "stream_events": 40, "seed": 3}


@pytest.fixture(scope="module")
def airflow(platform_env, platform_control):
    """The test platform with its Airflow components running (stopped again afterwards)."""
    instance = platform_control.instance
    processes.up(instance, AIRFLOW)
    try:
        yield instance, api_client(instance)
    finally:
        processes.down(instance, AIRFLOW)


def _runs(api) -> list[dict]:
    return api.get(f"/dags/{DAG_ID}/dagRuns", params={"limit": 100}).json()["dag_runs"]


@pytest.fixture(scope="module")
def overlapping_runs(airflow):
    """The scheduler's own run of the latest interval (or a triggered one), and a backfill created while it is
    going."""
    _, api = airflow
    wait_for_dag(api)
    try:  # on a fresh state folder the scheduler starts the latest interval's run as soon as the DAG is parsed
        first = wait_until(lambda: next((r for r in _runs(api) if r["state"] == "running"), None), 60, interval_s=3)
    except AssertionError:  # that run exists from an earlier session: start one by hand, as `make run` does
        first = api.post(f"/dags/{DAG_ID}/dagRuns", json={"logical_date": datetime.now(UTC).isoformat()}).json()
    created = api.post(
        "/backfills",
        json={
            "dag_id": DAG_ID,
            "from_date": BACKFILL_DATE,
            "to_date": BACKFILL_DATE,
            "dag_run_conf": SMALL,
            "reprocess_behavior": "completed",
            "max_active_runs": 1,
        },
    )
    assert created.status_code == 200, created.text  # first time: no "database is locked" (SQLite) refusal
    backfill = next(r["dag_run_id"] for r in _runs(api) if r["run_type"] == "backfill" and r["state"] != "success")
    wanted = {first["dag_run_id"], backfill}
    finished = wait_until(
        lambda: (
            (runs := [r for r in _runs(api) if r["dag_run_id"] in wanted])
            and all(r["state"] in ("success", "failed") for r in runs)
            and runs
        ),
        1800,
        interval_s=5,
    )
    instances = {
        run["dag_run_id"]: api.get(
            f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances", params={"limit": 100}
        ).json()["task_instances"]
        for run in finished
    }
    return finished, instances


def _interval(item: dict) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(item["start_date"]), datetime.fromisoformat(item["end_date"])


def test_a_backfill_beside_a_scheduled_run_succeeds(overlapping_runs):
    runs, _ = overlapping_runs
    assert sorted(r["state"] for r in runs) == ["success", "success"]
    assert {r["run_type"] for r in runs} in ({"scheduled", "backfill"}, {"manual", "backfill"})
    (_, first_end), (second_start, _) = sorted(_interval(r) for r in runs)
    assert second_start < first_end, "the two runs did not overlap in time: the test proves nothing"


@pytest.mark.parametrize("task_id", SINGLE_WRITERS)
def test_a_single_writer_never_runs_twice_at_once(overlapping_runs, task_id):
    _, instances = overlapping_runs
    intervals = sorted(
        _interval(ti) for tis in instances.values() for ti in tis if ti["task_id"] == task_id and ti["start_date"]
    )
    assert len(intervals) == 2, intervals
    assert intervals[0][1] <= intervals[1][0], f"{task_id} ran in two runs at once: {intervals}"


# --- the UI after those runs, in a browser -------------------------------------------------------------------

SUMMARY_TASK = "verification.publish_summary"
TABLES_SHOWN = """() => Array.from(document.querySelectorAll("table:not(details table)"), t => ({
    caption: t.caption ? t.caption.textContent : "",
    rows: Array.from(t.rows, r => Array.from(r.cells, c => c.textContent.trim())),
}))"""
ANSWERS_SHOWN = """() => Array.from(document.querySelectorAll(".answers figure"), f => ({
    takeaway: f.querySelector(".takeaway").textContent,
    charts: f.querySelectorAll("svg").length,
    marks: f.querySelectorAll("svg rect").length,
    labels: Array.from(f.querySelectorAll("svg text"), t => t.textContent),
    head: Array.from(f.querySelectorAll("details thead th"), c => c.textContent),
    rows: Array.from(f.querySelectorAll("details tbody tr"), r => Array.from(r.cells, c => c.textContent)),
}))"""
# The charts that draw one mark per row, and the column each mark's value label shows (the others group rows).
CHARTED = {
    "category_by_year": "category_count",
    "top_country_by_followers": "follower_count",
    "category_by_age_group": "category_count",
    "median_followers_by_age_group": "median_follower_count",
    "users_joined_by_year": "number_users_joined",
    "median_followers_by_join_year": "median_follower_count",
    "median_followers_by_join_year_and_age_group": "median_follower_count",
}
SHOWN_NUMBER = re.compile(r"-?[\d,]+(\.\d+)?")


def _summary(api, run_id: str) -> dict | None:
    """The run's publish_summary XCom through the REST API (None when the task did not publish one)."""
    found = api.get(
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{SUMMARY_TASK}/xcomEntries/return_value",
        params={"deserialize": True},
    )
    return found.json()["value"] if found.status_code == 200 else None


def _log_in(page, instance) -> None:
    """Through the simple auth manager's own form, as a user does (the password the API server generated)."""
    passwords = instance.path("airflow", "simple_auth_manager_passwords.json.generated")
    page.goto(instance.url("airflow"))
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(json.loads(passwords.read_text())["admin"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/" not in url)


def _pipeline_frame(page, src: str):
    """The UI's iframe of the page at ``src`` (the external view's href), once its report has rendered."""
    frame = page.wait_for_selector(f'iframe[src="{src}"]').content_frame()
    frame.wait_for_selector(".pin-report")
    return frame


def _shown(text: str) -> float | None:
    return float(text.replace(",", "")) if SHOWN_NUMBER.fullmatch(text) else None


def _stage_text(stage: dict) -> str:
    missing = stage["missing_accepted_posts"]
    return f"{stage['posts']:,} " + (f"{missing:,} missing" if missing else "none missing")


def _assert_shows_reconciliation(frame, summary: dict) -> None:
    """Every figure of the run's reconciliation as the page shows it: posts per stage and what is missing, the
    stream tables' rows and lag, the API's counts and rates."""
    shown_tables = frame.evaluate(TABLES_SHOWN)
    tables = {
        start: next(t for t in shown_tables if t["caption"].startswith(start))
        for start in ("Posts in each stage", "Stream tables", "Ingestion API")
    }
    batch = tables["Posts in each stage"]
    assert f"this run's {summary['accepted_posts']:,} accepted batch posts" in batch["caption"]
    _, *columns = batch["rows"][0]
    shown = {
        f"{row[0]}.{table}": cell for row in batch["rows"][1:] for table, cell in zip(columns, row[1:], strict=True)
    }
    assert shown == {name: _stage_text(stage) for name, stage in summary["stages"].items()}

    stream = summary["stream"]
    assert f"this run's {stream['accepted_posts']:,} accepted stream posts" in tables["Stream tables"]["caption"]
    lag = {table: "—" if ms is None else str(ms) for table, ms in stream.get("millis_behind_latest", {}).items()}
    assert {row[0]: tuple(row[1:]) for row in tables["Stream tables"]["rows"][1:]} == {
        name: (_stage_text(stage), lag.get(name.split(".", 1)[1], "—")) for name, stage in stream["stages"].items()
    }

    _, *modes = tables["Ingestion API"]["rows"][0]
    assert modes == list(summary["api"])
    shown = {row[0]: dict(zip(modes, map(_shown, row[1:]), strict=True)) for row in tables["Ingestion API"]["rows"][1:]}
    for key, label, fmt in report.API_FIGURES:
        for mode in modes:
            wanted = summary["api"][mode].get(key)
            # Exactly the summary's figure in the page's own format (136.75 at one decimal shows as 136.8).
            assert shown[label][mode] == (None if wanted is None else _shown(fmt.format(wanted))), (label, mode)


def _gold_cell(value: object) -> object:
    return float(f"{value:.1f}") if isinstance(value, int | float) and not isinstance(value, bool) else str(value)


def _assert_answers_equal_gold(frame, gold: dict[str, list[dict]]) -> None:
    """One chart per gold table, in the spec's order, each with a takeaway; every row of each table shown, and
    each row's value on the charts that draw one mark per row."""
    shown = frame.evaluate(ANSWERS_SHOWN)
    assert len(shown) == len(GOLD_TABLES) == 9
    for answer, name in zip(shown, GOLD_TABLES, strict=True):
        assert answer["charts"] == 1 and answer["marks"] > 0 and answer["takeaway"], name
        assert answer["head"] == list(gold[name][0]), name
        rows = sorted(tuple(c if _shown(c) is None else _shown(c) for c in row) for row in answer["rows"])
        assert rows == sorted(tuple(map(_gold_cell, row.values())) for row in gold[name]), name
        if name in CHARTED:
            values = Counter(report.compact(row[CHARTED[name]]) for row in gold[name])
            assert not values - Counter(answer["labels"]), (name, answer["labels"])


def _default_run(api) -> str:
    """The run the page shows unless one is chosen: the latest (by run_after) with a published summary."""
    for run in sorted(_runs(api), key=lambda r: r["run_after"], reverse=True):
        if _summary(api, run["dag_run_id"]) is not None:
            return run["dag_run_id"]
    raise AssertionError("no run has a summary")


def test_the_ui_shows_each_runs_reconciliation_and_the_gold(overlapping_runs, airflow, chromium_page):
    """The DAG's tab shows the default run, the navigation entry's run picker the other; the report file too."""
    instance, api = airflow
    runs, _ = overlapping_runs
    settings = Settings()
    gold = report.read_gold(Lake.of(settings, "delta-rs"), delta_storage_options(settings))
    artifacts = instance.path("artifacts")
    artifacts.mkdir(exist_ok=True)
    page = chromium_page
    _log_in(page, instance)

    page.goto(f"{instance.url('airflow')}/dags/{DAG_ID}")
    page.get_by_role("link", name="Pipeline page").click()
    frame = _pipeline_frame(page, f"/pinterest/?dag_id={DAG_ID}")
    default = _default_run(api)
    assert frame.locator("select[name=run_id]").input_value() == default
    _assert_shows_reconciliation(frame, _summary(api, default))
    _assert_answers_equal_gold(frame, gold)
    assert "latest written" in frame.locator(".pin-report").text_content()
    page.screenshot(path=artifacts / "pipeline-dag-tab.png")

    other = next(r["dag_run_id"] for r in runs if r["dag_run_id"] != default)
    page.get_by_role("link", name="Pinterest pipeline").click()
    frame = _pipeline_frame(page, "/pinterest/")
    frame.locator("select[name=run_id]").select_option(other)
    with frame.expect_navigation():
        frame.get_by_role("button", name="Show").click()
    frame.wait_for_selector(".pin-report")
    assert frame.locator("select[name=run_id]").input_value() == other
    _assert_shows_reconciliation(frame, _summary(api, other))
    page.screenshot(path=artifacts / "pipeline-nav.png")
    page.goto(frame.url)  # the page alone, for a screenshot of all of it
    page.screenshot(path=artifacts / "pipeline-page.png", full_page=True)

    s3 = boto3.client("s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region)
    lake = Lake.of(settings, "delta-rs")
    saved = artifacts / "report.html"
    saved.write_bytes(
        s3.get_object(Bucket=settings.bucket, Key=lake.report.removeprefix(lake.root + "/"))["Body"].read()
    )
    page.goto(saved.as_uri())
    _assert_answers_equal_gold(page, gold)
    page.screenshot(path=artifacts / "report.png", full_page=True)


def test_every_listening_socket_is_on_loopback(airflow):
    instance, _ = airflow
    groups = {processes.running_pid(instance, name): name for name in services.SERVICES}
    groups.pop(None, None)
    listening = set()
    for process in psutil.process_iter():
        try:
            group = groups.get(os.getpgid(process.pid))
            sockets = process.net_connections(kind="inet") if group else []
        except (psutil.Error, ProcessLookupError):
            continue
        listening |= {(group, s.laddr.ip, s.laddr.port) for s in sockets if s.status == psutil.CONN_LISTEN}
    assert {name for name, _, _ in listening} >= {"s3", "kinesis", "kafka", "connect", "ingest-api", "postgres"}
    assert "airflow-api" in {name for name, _, _ in listening}
    assert {(name, ip, port) for name, ip, port in listening if ip not in ("127.0.0.1", "::ffff:127.0.0.1")} == set()
