"""The whole pinterest_pipeline DAG, end to end on the real test platform, through `airflow dags test`
(which runs the deferrable sensors' triggers in-process), then a rerun of the same logical date."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.lineage import job_id, lineage_graph, read_events
from include.pinterest.settings import TABLES, Settings
from include.pinterest.verification import delta_storage_options
from tests.conftest import REPO

# Two whole runs in one fixture: slow on a loaded 2-core machine, so more than the suite-wide 900 s.
pytestmark = [pytest.mark.integration, pytest.mark.spark, pytest.mark.slow, pytest.mark.timeout(2400)]
LOGICAL_DATE = "2026-11-20T00:00:00+00:00"
CONF = {"events": 300, "stream_events": 60, "seed": 11}


def _lake() -> tuple[Lake, dict[str, str] | None]:
    """The lake as the reconciliation reads it: delta-rs through the test platform's S3 API."""
    settings = Settings()  # platform_env has exported the platform's variables
    return Lake.of(settings, "delta-rs"), delta_storage_options(settings)


def _table_rows(uri: str, options: dict[str, str] | None) -> list[tuple] | None:
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(uri, storage_options=options).to_pyarrow_table()
    except TableNotFoundError:
        return None
    return sorted(tuple(json.dumps(v, default=str, sort_keys=True) for v in row.values()) for row in table.to_pylist())


def _snapshot() -> dict[str, list[tuple]]:
    lake, options = _lake()
    tables = {f"silver/{t}": lake.silver(t) for t in TABLES} | {f"gold/{name}": lake.gold(name) for name in GOLD_TABLES}
    rows = {name: _table_rows(uri, options) for name, uri in tables.items()}
    return {name: found for name, found in rows.items() if found is not None}


def _dags_test(env, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "pinterest_pipeline", LOGICAL_DATE, "-c", json.dumps(CONF)],
        env={**env, "AIRFLOW_HOME": str(home)},
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=1800,
    )


def _summary(run: subprocess.CompletedProcess) -> dict:
    found = re.findall(r"RUN SUMMARY (\{.*?\})(?:\"|\s*$)", run.stdout + run.stderr, re.M)
    assert found, (run.stdout + run.stderr)[-4000:]
    return json.loads(found[-1].replace('\\"', '"'))


@pytest.fixture(scope="module")
def runs(platform_env, tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = {**os.environ, **platform_env}
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        env={**env, "AIRFLOW_HOME": str(home)},
        check=True,
        capture_output=True,
    )
    began = datetime.now(UTC)
    first = _dags_test(env, home)
    before = _snapshot()
    second = _dags_test(env, home)
    after = _snapshot()
    return first, second, before, after, began


def test_the_whole_graph_runs_green(runs):
    first = runs[0]
    tail = (first.stdout + first.stderr)[-4000:]
    assert first.returncode == 0, tail
    assert "state=success" in first.stdout + first.stderr, tail


def test_the_summary_reconciles_every_stage(runs):
    summary = _summary(runs[0])
    assert summary["accepted_posts"] > 0
    assert set(summary["stages"]) == {
        f"{stage}.{t}" for stage in ("kafka", "bronze", "silver") for t in ("pin", "geo", "user")
    }
    assert all(stage["missing_accepted_posts"] == 0 for stage in summary["stages"].values())
    assert summary["stream"]["accepted_posts"] > 0
    assert all(stage["missing_accepted_posts"] == 0 for stage in summary["stream"]["stages"].values())
    assert summary["api"]["batch"]["accepted"] == CONF["events"]


def test_a_rerun_of_the_same_logical_date_changes_no_silver_or_gold_data(runs):
    _first, second, before, after, _began = runs
    assert second.returncode == 0, (second.stdout + second.stderr)[-4000:]
    assert {"silver/pin", "silver/geo", "silver/user", "gold/category_by_country"} <= set(before)
    assert before == after


def test_the_report_is_written(runs, platform_env):
    import boto3

    lake, _ = _lake()
    s3 = boto3.client("s3", endpoint_url=platform_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    page = s3.get_object(Bucket=platform_env["PINTEREST_BUCKET"], Key=lake.report.removeprefix(lake.root + "/"))
    assert "<svg" in page["Body"].read().decode("utf-8")


def _run_lineage(runs, platform_env):
    """The lineage graph of the two runs: the OpenLineage events Airflow and Spark wrote since they began."""
    return lineage_graph(read_events(Path(platform_env["PINTEREST_LINEAGE_DIR"]), since=runs[4]))


def test_the_runs_lineage_connects_each_topic_to_bronze_silver_and_gold(runs, platform_env):
    graph, settings = _run_lineage(runs, platform_env), Settings()
    lake, _ = _lake()
    kafka = settings.kafka_bootstrap.split(",")[0]
    for table in TABLES:
        path = (f"kafka://{kafka}/{settings.topic(table)}", lake.bronze_dir(table), lake.silver(table))
        assert graph.connects(*path, lake.gold("category_by_country")), (table, sorted(graph.nodes))
    assert graph.states[job_id("pinterest", "pinterest_pipeline.batch.clean")] == "COMPLETE"


def test_the_spark_jobs_report_their_writes_under_their_task(runs, platform_env):
    graph = _run_lineage(runs, platform_env)
    lake, _ = _lake()
    clean = job_id("pinterest", "pinterest_pipeline.batch.clean")
    # The listener's application run is the task's child; each of its SQL executions is the application's.
    under_clean = [job for job in graph.parents if clean in graph.ancestors(job)]
    written = {target for job in under_clean for source, target in graph.edges if source == job}
    assert lake.silver("pin") in written, (under_clean, sorted(written))
