"""Per-stream status files: what the streaming driver reports, for `make run`, `make stream-status` and people.

The DAG checks the stream tables themselves (Delta), not these files.

The driver writes ``<PINTEREST_STATE_DIR>/stream/status/<table>.json`` after every batch (rows in the table,
last batch id), at every poll of its queries (rates and batch duration of a new progress; otherwise nothing but
``updated_at``, which shows the query is alive), with the lag behind the stream's tip: ``millis_behind_latest`` from GetRecords (through the local source's metrics file,
or Databricks' ``maxMsBehindLatest`` progress metric). Files are replaced atomically, so readers never see
half of one; reading needs neither Spark nor the driver.
"""

from __future__ import annotations

import json
import math
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from include.pinterest.files import write_json_atomically
from include.pinterest.settings import TABLES

REPO_ROOT = Path(__file__).resolve().parents[3]


def state_dir() -> Path:
    """The platform instance's state folder (``PINTEREST_STATE_DIR``), ``.state/dev`` in the repository by default."""
    return Path(os.environ.get("PINTEREST_STATE_DIR") or REPO_ROOT / ".state" / "dev")


def stream_dir(root: Path | None = None) -> Path:
    return (root or state_dir()) / "stream"


def status_path(table: str, root: Path | None = None) -> Path:
    return stream_dir(root) / "status" / f"{table}.json"


def source_metrics_dir(root: Path | None = None) -> Path:
    """Where the local Kinesis source reports each shard's MillisBehindLatest, one ``<table>.json`` per table."""
    return stream_dir(root) / "source"


def source_metrics_path(table: str, root: Path | None = None) -> Path:
    return source_metrics_dir(root) / f"{table}.json"


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def read_status(tables: list[str] | None = None, root: Path | None = None) -> dict[str, dict[str, Any] | None]:
    """Each table's last reported status (None when its stream never ran here)."""
    return {table: _read_json(status_path(table, root)) for table in tables or TABLES}


def is_caught_up(status: dict[str, Any] | None, max_age_s: float = 60.0, max_lag_ms: int = 0) -> bool:
    """True when the stream's query runs, reported recently, and has read everything up to the stream's tip."""
    if not status or status.get("state") != "running" or not status.get("caught_up"):
        return False
    if (status.get("millis_behind_latest") or 0) > max_lag_ms:
        return False
    updated = datetime.fromisoformat(status["updated_at"])
    return (datetime.now(UTC) - updated).total_seconds() <= max_age_s


class StatusBoard:
    """The driver's view of its streams, one JSON file per table; safe to call from several query threads."""

    def __init__(self, root: Path | None = None, pid: int | None = None) -> None:
        self.root = root or state_dir()
        self.pid = pid or os.getpid()
        self._lock = threading.Lock()
        self._status: dict[str, dict[str, Any]] = {}

    def _update(self, table: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            status = self._status.setdefault(table, {"table": table, "pid": self.pid})
            status.update(self._lag(table))
            status.update(fields, updated_at=now_iso())
            write_json_atomically(status_path(table, self.root), status)
            return dict(status)

    def _lag(self, table: str) -> dict[str, Any]:
        """Lag from the source's metrics file when there is one (the local source), else what progress said."""
        metrics = _read_json(source_metrics_path(table, self.root))
        if metrics is None:
            return {}
        return {
            "millis_behind_latest": metrics.get("max_millis_behind_latest"),
            "caught_up": bool(metrics.get("caught_up")),
            "lag_measured_at": metrics.get("updated_at"),
        }

    def starting(self, table: str, stream: str, query: str) -> None:
        self._update(table, stream=stream, query=query, state="starting", error=None)

    def running(self, table: str, query_id: str, run_id: str) -> None:
        self._update(table, state="running", query_id=query_id, run_id=run_id)

    def set_rows_in_table(self, table: str, rows: int) -> None:
        """The table's row count when its query starts; batches then add what their MERGE inserted."""
        self._update(table, rows_in_table=rows)

    def record_batch(
        self,
        table: str,
        batch_id: int,
        inserted: int,
        quarantined: int,
        wall_ms: dict[str, int] | None = None,
        cpu_ms: dict[str, int] | None = None,
    ) -> None:
        """Called from inside the batch, once its writes are committed; ``*_ms``: time per write phase.

        Phase times are also summed since start (``phase_wall_ms_total``, ``phase_cpu_ms_total``) and the batches
        counted (``data_batches``), so a reader can average them over any span of batches.
        """
        with self._lock:
            previous = self._status.get(table, {})
            rows = previous.get("rows_in_table", 0) + inserted
            total = previous.get("quarantined_since_start", 0) + quarantined
            sums = {
                name: _add(previous.get(name, {}), phases or {})
                for name, phases in (("phase_wall_ms_total", wall_ms), ("phase_cpu_ms_total", cpu_ms))
            }
            batches = previous.get("data_batches", 0) + 1
        self._update(
            table,
            last_batch_id=batch_id,
            rows_in_table=rows,
            rows_inserted=inserted,
            quarantined_since_start=total,
            write_ms=sum((wall_ms or {}).values()),
            phase_wall_ms=wall_ms or {},
            data_batches=batches,
            **sums,
        )

    def record_progress(self, table: str, progress: Any) -> dict[str, Any]:
        """Called with each query progress seen: rates, batch duration and (Databricks) the source's lag metric.

        Spark's own durations of the batches that read something are summed in ``trigger_ms_total`` (source
        poll ``latestOffset``, ``addBatch`` = the writer, ``walCommit``/``commitOffsets`` = the checkpoint...)
        and counted in ``progress_batches`` (the driver polls progress, so it may see fewer than ``data_batches``).
        """
        durations = {k: int(v) for k, v in (progress.durationMs or {}).items()}
        fields: dict[str, Any] = {
            "last_batch_id": progress.batchId,
            "input_rows": progress.numInputRows,
            "input_rows_per_s": _finite(progress.inputRowsPerSecond),
            "processed_rows_per_s": _finite(progress.processedRowsPerSecond),
            "batch_duration_ms": durations.get("triggerExecution"),
        }
        metrics = progress.sources[0].metrics if progress.sources else {}
        if metrics and "maxMsBehindLatest" in metrics:
            lag = int(float(metrics["maxMsBehindLatest"]))
            fields.update(millis_behind_latest=lag, caught_up=lag == 0)
        with self._lock:
            previous = self._status.get(table, {})
            if progress.numInputRows:
                fields["trigger_ms_total"] = _add(previous.get("trigger_ms_total", {}), durations)
                fields["progress_batches"] = previous.get("progress_batches", 0) + 1
        return self._update(table, **fields)

    def alive(self, table: str) -> None:
        """A poll without a new progress: the query is alive and its lag was read again."""
        self._update(table)

    def stopped(self, table: str, error: str | None = None) -> None:
        self._update(table, state="failed" if error else "stopped", error=error, caught_up=False)


def _add(totals: dict[str, int], more: dict[str, int]) -> dict[str, int]:
    return {key: totals.get(key, 0) + more.get(key, 0) for key in totals.keys() | more.keys()}


def _finite(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), 2)
