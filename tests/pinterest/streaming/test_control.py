"""Driver control without Spark: the per-table locks, stop of nothing, status files, the notebook's shape."""

from __future__ import annotations

import json
import multiprocessing
import re
from datetime import UTC, datetime, timedelta

from include.pinterest.streaming import driver
from include.pinterest.streaming.__main__ import main
from include.pinterest.streaming.status import (
    StatusBoard,
    is_caught_up,
    read_status,
    source_metrics_path,
)
from tests.conftest import REPO


def _hold_lock(root, ready, release):
    lock = driver.TableLock("pin", root)
    assert lock.acquire()
    ready.set()
    release.wait(30)


def test_a_table_lock_admits_one_holder_and_names_it(tmp_path):
    ready, release = multiprocessing.Event(), multiprocessing.Event()
    holder = multiprocessing.Process(target=_hold_lock, args=(tmp_path, ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        lock = driver.TableLock("pin", tmp_path)
        assert not lock.acquire(), "a second driver must not run the pin query"
        assert lock.holder() == holder.pid
    finally:
        release.set()
        holder.join(30)
    # The kernel releases the lock when its holder dies: nothing stale is left behind.
    assert driver.TableLock("pin", tmp_path).holder() is None
    assert driver.TableLock("pin", tmp_path).acquire()


def test_stop_and_status_without_a_driver(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PINTEREST_STATE_DIR", str(tmp_path))
    assert main(["stop", "--tables", "pin,geo"]) == 0
    assert json.loads(capsys.readouterr().out) == {"pin": "not running", "geo": "not running"}
    assert main(["status", "--tables", "user"]) == 0
    assert json.loads(capsys.readouterr().out) == {"user": {"running": False, "driver_pid": None}}


def test_status_board_reports_batches_and_the_source_lag(tmp_path):
    board = StatusBoard(root=tmp_path)
    board.starting("geo", "streaming-x-geo", "stream-x-geo")
    board.running("geo", "query-id", "run-id")
    board.set_rows_in_table("geo", 10)
    metrics = source_metrics_path("geo", tmp_path)
    metrics.parent.mkdir(parents=True)
    metrics.write_text(json.dumps({"max_millis_behind_latest": 0, "caught_up": True, "updated_at": "now"}))
    board.record_batch("geo", 3, inserted=5, quarantined=2)
    status = read_status(["geo", "pin"], root=tmp_path)
    assert status["pin"] is None
    geo = status["geo"]
    assert (geo["rows_in_table"], geo["last_batch_id"], geo["quarantined_since_start"]) == (15, 3, 2)
    assert geo["state"] == "running" and is_caught_up(geo)
    metrics.write_text(json.dumps({"max_millis_behind_latest": 5000, "caught_up": False, "updated_at": "now"}))
    board.alive("geo")
    assert not is_caught_up(read_status(["geo"], root=tmp_path)["geo"])
    board.stopped("geo")
    assert not is_caught_up(read_status(["geo"], root=tmp_path)["geo"])


def test_a_stale_status_is_not_caught_up():
    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    status = {"state": "running", "caught_up": True, "millis_behind_latest": 0, "updated_at": old}
    assert not is_caught_up(status, max_age_s=60)
    assert is_caught_up(status, max_age_s=600)


def test_the_notebook_is_databricks_source_format_without_credentials():
    text = (REPO / "include" / "notebooks" / "stream_to_delta.py").read_text()
    assert text.startswith("# Databricks notebook source\n")
    assert text.count("# COMMAND ----------") >= 2
    assert not re.search(r"(?i)(secret_key|access_key|aws_secret|AKIA[0-9A-Z]{12})", text)
    assert "SourceConfig.from_settings" in text and "endpointUrl" not in text
