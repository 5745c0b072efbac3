"""Airflow's own components on the test platform (PostgreSQL metadata database, real scheduler, executor and
triggerer): a backfill created from the REST API while a scheduled run is going is accepted at once, and the
single-writer tasks never run twice at the same time across the runs. Also: every listening socket of every
running service is on loopback."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import psutil
import pytest

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
