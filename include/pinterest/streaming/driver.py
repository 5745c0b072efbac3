"""The long-lived streaming driver: one Spark session running one query per table, and its start/stop/status.

``start`` runs in the foreground (the platform supervises it). It never runs two copies of a stream's query:
each table has a lock file under ``<PINTEREST_STATE_DIR>/stream/locks`` held with ``flock`` for the driver's
lifetime (the kernel releases it when the process dies, even by SIGKILL, so a crash leaves no stale lock), and
inside the session a query name already in ``spark.streams.active`` is not started again. ``stop`` asks for a
graceful stop through a request file per table, which the driver polls every second: it lets the current batch
finish, stops the query and releases the lock; SIGTERM or Ctrl-C stops every query the same way. A query that
fails (say Kinesis is unreachable) is restarted with a growing back-off instead of taking the others down. Every
``COMPACT_INTERVAL_S`` the driver compacts the tables' small files beside the running queries.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.streaming import StreamingQuery

from include.pinterest.lake import Lake
from include.pinterest.settings import Settings
from include.pinterest.streaming.job import (
    COMPACT_INTERVAL_S,
    SourceConfig,
    compact_small_files,
    ensure_tables,
    query_name,
    register_local_source,
    start_query,
    stop_gracefully,
)
from include.pinterest.streaming.status import (
    StatusBoard,
    read_status,
    source_metrics_dir,
    stream_dir,
)

log = logging.getLogger(__name__)

POLL_INTERVAL_S = 1.0
MAX_RESTART_BACKOFF_S = 60.0


class TableLock:
    """An exclusive ``flock`` on ``locks/<table>.lock`` whose file holds the owner's pid."""

    def __init__(self, table: str, root: Path | None = None) -> None:
        self.path = stream_dir(root) / "locks" / f"{table}.lock"
        self._fd: int | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> int | None:
        """Pid of the process holding the lock, or None when nobody does."""
        if not self.path.exists():
            return None
        if self.acquire():
            self.release()
            return None
        try:
            return int(self.path.read_text().strip())
        except ValueError:
            return None


def stop_request_path(table: str, root: Path | None = None) -> Path:
    return stream_dir(root) / "stop" / table


@dataclass
class TableQuery:
    """One table's query and its restart bookkeeping."""

    table: str
    lock: TableLock
    query: StreamingQuery | None = None
    failures: int = 0
    restart_at: float = 0.0
    stopped: bool = field(default=False)
    # Timestamp of the last progress written to the status file.
    reported: str | None = None


class StreamingDriver:
    """Runs the queries of ``tables`` until asked to stop; the caller holds their locks."""

    def __init__(
        self,
        spark: SparkSession,
        settings: Settings,
        tables: dict[str, TableLock],
        source: SourceConfig,
        board: StatusBoard,
        trigger_interval: str = "1 second",
    ) -> None:
        self.spark = spark
        self.settings = settings
        self.source = source
        self.board = board
        self.trigger_interval = trigger_interval
        self.root = board.root
        self.queries = {t: TableQuery(t, lock) for t, lock in tables.items()}
        self.stop_all = threading.Event()

    def run(self) -> None:
        ensure_tables(self.spark, Lake.of(self.settings), list(self.queries))
        for table in self.queries:
            stop_request_path(table, self.root).unlink(missing_ok=True)
        compacted_at = time.monotonic()
        while any(not q.stopped for q in self.queries.values()):
            for entry in self.queries.values():
                if not entry.stopped:
                    self._tend(entry)
                    self._report(entry)
            if time.monotonic() - compacted_at > COMPACT_INTERVAL_S:
                self._compact()
                compacted_at = time.monotonic()
            time.sleep(POLL_INTERVAL_S)

    def _compact(self) -> None:
        """Compact the running tables' small files; a failure is logged and retried at the next interval."""
        running = [t for t, q in self.queries.items() if q.query is not None and q.query.isActive]
        try:
            compact_small_files(self.spark, Lake.of(self.settings), running)
        except Exception:
            log.exception("compacting the stream tables failed (the queries go on)")

    def _tend(self, entry: TableQuery) -> None:
        request = stop_request_path(entry.table, self.root)
        if self.stop_all.is_set() or request.exists():
            self._stop(entry)
            request.unlink(missing_ok=True)
            return
        if entry.query is not None and not entry.query.isActive:
            error = entry.query.exception()
            entry.failures += 1
            backoff = min(MAX_RESTART_BACKOFF_S, 2.0**entry.failures)
            log.error("stream %s failed (restart in %.0f s): %s", entry.table, backoff, error)
            self.board.stopped(entry.table, error=str(error) if error else "query ended unexpectedly")
            entry.query, entry.restart_at = None, time.monotonic() + backoff
        if entry.query is None and time.monotonic() >= entry.restart_at:
            self._start(entry)

    def _report(self, entry: TableQuery) -> None:
        """Write the query's newest progress to its status file, or refresh its lag when there is none.

        Polled, not a ``StreamingQueryListener``: PySpark converts each listener event from Java objects, which
        costs about as much CPU as the batch it reports; ``lastProgress`` is one JSON string. A progress that
        another replaced within one poll is not seen (its batch's rows are: the writer reports them).
        """
        progress = entry.query.lastProgress if entry.query is not None else None
        if progress is None or progress.timestamp == entry.reported:
            self.board.alive(entry.table)
            return
        entry.reported = progress.timestamp
        status = self.board.record_progress(entry.table, progress)
        if progress.numInputRows:
            log.info(
                "stream %s batch %s: %s rows, %s rows/s in, %s rows/s processed, %s ms, %s ms behind tip, "
                "%s rows in table",
                entry.table,
                status.get("last_batch_id"),
                status.get("input_rows"),
                status.get("input_rows_per_s"),
                status.get("processed_rows_per_s"),
                status.get("batch_duration_ms"),
                status.get("millis_behind_latest"),
                status.get("rows_in_table"),
            )

    def _start(self, entry: TableQuery) -> None:
        name = query_name(self.settings.topic_prefix, entry.table)
        self.board.starting(entry.table, self.settings.stream(entry.table), name)
        try:
            entry.query = start_query(
                self.spark, self.settings, entry.table, self.source, self.trigger_interval, self.board
            )
        except Exception as exc:  # a bad start (e.g. unreadable checkpoint) is retried like a failed query
            entry.failures += 1
            entry.restart_at = time.monotonic() + min(MAX_RESTART_BACKOFF_S, 2.0**entry.failures)
            log.exception("stream %s could not start", entry.table)
            self.board.stopped(entry.table, error=str(exc))
            return
        self.board.running(entry.table, str(entry.query.id), str(entry.query.runId))
        log.info("stream %s started as query %s (%s)", entry.table, name, entry.query.id)

    def _stop(self, entry: TableQuery) -> None:
        if entry.query is not None and entry.query.isActive:
            log.info("stream %s stopping after its current batch", entry.table)
            stop_gracefully(entry.query)
        self.board.stopped(entry.table)
        entry.lock.release()
        entry.stopped = True
        log.info("stream %s stopped", entry.table)


def build_session() -> SparkSession:
    """The job's session: local Delta session (with our source registered) or Databricks' own."""
    from include.pinterest.spark.session import build_spark, on_databricks

    # The source's Python worker imports it like any module: the project is installed (editable locally).
    spark = build_spark(
        "pinterest-streaming",
        {
            # Micro-batches are small: one shuffle task (and one file per commit) costs less than two.
            "spark.sql.shuffle.partitions": "1",
            "spark.default.parallelism": "2",
        },
        # No Spark listener: it would write events for every micro-batch of every query (several a second) to
        # files that are never rotated, and spend the batches' CPU on it. The stream tables' lineage is what the
        # task that starts the job declares (its inlets and outlets).
        lineage=False,
    )
    if not on_databricks():
        register_local_source(spark)
    return spark


def start(tables: list[str], trigger_interval: str = "1 second", initial_position: str = "trim_horizon") -> int:
    """Run the queries of the tables not already running elsewhere; returns when all of them stopped."""
    board = StatusBoard()
    locks = {t: TableLock(t, board.root) for t in tables}
    mine = {t: lock for t, lock in locks.items() if lock.acquire()}
    others = sorted(set(tables) - set(mine))
    if others:
        log.info("already running elsewhere, not started again: %s", ", ".join(others))
    if not mine:
        print(json.dumps({"started": [], "already_running": others}))
        return 0
    settings = Settings()
    source = SourceConfig.from_settings(
        settings, metrics_dir=str(source_metrics_dir(board.root)), initial_position=initial_position
    )
    spark = build_session()
    driver = StreamingDriver(spark, settings, mine, source, board, trigger_interval)

    def request_stop(signum: int, _frame: Any) -> None:
        log.info("signal %d: stopping every stream after its current batch", signum)
        driver.stop_all.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        driver.run()
    finally:
        for lock in mine.values():
            lock.release()
    return 0


def stop(tables: list[str], timeout_s: float = 120.0) -> dict[str, str]:
    """Ask the drivers of ``tables`` for a graceful stop and wait; SIGTERM a driver that does not answer."""
    root = StatusBoard().root
    locks = {t: TableLock(t, root) for t in tables}
    running = {t: lock.holder() for t, lock in locks.items()}
    result = {t: "not running" for t, pid in running.items() if pid is None}
    pending = {t: pid for t, pid in running.items() if pid is not None}
    for table in pending:
        path = stop_request_path(table, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        pending = {t: pid for t, pid in pending.items() if locks[t].holder() is not None}
        time.sleep(0.5)
    for pid in set(pending.values()):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s / 4
    while pending and time.monotonic() < deadline:
        pending = {t: pid for t, pid in pending.items() if locks[t].holder() is not None}
        time.sleep(0.5)
    for table in running:
        if table not in result:
            result[table] = "still running" if table in pending else "stopped"
    return result


def status(tables: list[str]) -> dict[str, dict[str, Any]]:
    """Each table's status file plus whether a driver holds its lock right now."""
    root = StatusBoard().root
    report: dict[str, dict[str, Any]] = {}
    for table, reported in read_status(tables, root).items():
        pid = TableLock(table, root).holder()
        report[table] = {**(reported or {}), "running": pid is not None, "driver_pid": pid}
    return report
