"""Streaming benchmark: end-to-end latency from PutRecords to a readable Delta row, its cost, the highest sustained rate.

It runs the real driver (``python -m include.pinterest.streaming start``: three queries, one per stream) against a
private Kinesis endpoint (kinesalite in memory) and a local-disk lake, warms it up (``--warmup`` s at the first
rate, not measured: class loading and JIT), sends at each steady rate (``--rates``, 200 and 1,000 events/s), then steps the rate up until
the job or the sender gives out.

- An *event* is one Kinesis record; events go round-robin to the pin, geo and user streams (a third each).
- The sender puts PutRecords batches straight to the endpoint from a pool of threads, so a slow call delays no
  other; a phase whose actual rate falls short of its target is flagged (``sender_limited``).
- Send time: the client clock just before the PutRecords call, embedded in the record itself (pin
  ``unique_id``, geo ``country``, user ``first_name`` -> ``user_name``), so the row in Delta carries it.
- Readable time: the ``commitInfo.timestamp`` of the Delta commit that first added the row (read from
  ``_delta_log``; compaction commits change no data and are skipped). Latency = readable time - send time.
- Sustained: during a phase the backlog (events sent - rows committed) must not grow between the middle and the
  end of the phase by more than one second's worth of events. The highest such phase is reported.
- Cost: CPU seconds of the driver's whole session (Python driver, JVM, Python workers) per phase, per
  micro-batch that read data and per event; the Kinesis endpoint and the sender are measured apart. The per-table
  breakdown (Spark's durations: source poll, planning, the writer's phases, checkpoint; idle) comes from the
  driver's status files. CPU seconds do not depend on the machine's load; wall-clock latency does, so the load
  average is recorded with every phase.

Usage: ``make bench BENCH=streaming`` (or ``.venv/bin/python -m benchmarks.streaming --rates 200,1000``); writes
``benchmarks/results/streaming.json``.
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3
import pyarrow.parquet as pq
from botocore.config import Config

from benchmarks.machine import load_average, machine
from local_platform.services import kinesis as kinesis_service

REPO = Path(__file__).resolve().parents[1]
RESULT = REPO / "benchmarks" / "results" / "streaming.json"
TABLES = ("pin", "geo", "user")
SENT_COLUMN = {"pin": "unique_id", "geo": "country", "user": "user_name"}
SHARDS_PER_STREAM = 4
TRIGGER_INTERVAL_S = 1.0
TICK_S = 0.1
PUT_RECORDS_LIMIT = 500
SENDER_THREADS = 12
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_kinesis(log: Path) -> tuple[subprocess.Popen, str]:
    """A private in-memory endpoint (the platform's kinesalite), in its own process group."""
    port = free_port()
    process = subprocess.Popen(
        kinesis_service.endpoint_command(port),
        env={**os.environ, **kinesis_service.endpoint_environment()},
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    raise TimeoutError("the Kinesis endpoint did not start")


def stop_group(process: subprocess.Popen, grace_s: float = 60) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def session_cpu_s(session: int) -> float:
    """CPU seconds used by every live process of a session, with the reaped children they waited for.

    A session, not a process group: PySpark's worker daemons put themselves in groups of their own.
    """
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[3]) == session:
            total += sum(int(f) for f in fields[11:15])
    return total / CLOCK_TICKS


def source_row(table: str, ind: int, sent_ms: int) -> dict:
    """A valid source row whose text field carries the send time."""
    if table == "pin":
        return {
            "index": ind,
            "unique_id": str(sent_ms),
            "title": "t",
            "description": "d",
            "poster_name": "p",
            "follower_count": "12k",
            "tag_list": "a,b",
            "is_image_or_video": "image",
            "image_src": "x",
            "downloaded": 1,
            "save_location": "Local save in /data/art",
            "category": "art",
        }
    if table == "geo":
        return {
            "ind": ind,
            "timestamp": "2020-08-28T03:52:47",
            "latitude": 1.0,
            "longitude": 2.0,
            "country": str(sent_ms),
        }
    return {"ind": ind, "first_name": str(sent_ms), "age": 30, "date_joined": "2016-01-01 00:00:00"}


class Sender:
    """Sends at a given rate in ticks of 100 ms and keeps a log of (time, events sent so far).

    Each tick adds the events the rate owes to one queue per stream; a pool of threads empties the queues with
    PutRecords calls of up to 500 records. A slow endpoint therefore gets bigger calls, not a falling rate, and a
    slow call delays no other. Records are built right before their call, so the embedded send time is the moment
    of the PutRecords request.
    """

    def __init__(self, client, streams: dict[str, str]) -> None:
        self.client = client
        self.streams = streams
        self.next_ind = 0
        self.sent = 0
        self.resent = 0
        self.timeline: list[tuple[float, int]] = []
        self.queues: dict[str, list[int]] = {t: [] for t in TABLES}
        self.lock = threading.Lock()
        self.wake = threading.Condition(self.lock)
        self.in_flight = 0
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(SENDER_THREADS)]
        for thread in self.threads:
            thread.start()

    def run(self, rate: float, duration_s: float) -> None:
        """Every tick, queue what the rate owes by now (a late tick queues more, so lateness is caught up)."""
        start, first = time.time(), self.next_ind
        for tick in range(1, int(duration_s / TICK_S) + 1):
            delay = start + tick * TICK_S - time.time()
            if delay > 0:
                time.sleep(delay)
            self._queue(int(rate * min(time.time() - start, duration_s)) - (self.next_ind - first))
        self._queue(int(rate * duration_s) - (self.next_ind - first))
        with self.wake:
            self.wake.wait_for(lambda: self.in_flight == 0 and not any(self.queues.values()))

    def _queue(self, count: int) -> None:
        with self.wake:
            for ind in range(self.next_ind, self.next_ind + count):
                self.queues[TABLES[ind % 3]].append(ind)
            self.next_ind += max(0, count)
            self.wake.notify_all()

    def _work(self) -> None:
        while True:
            with self.wake:
                self.wake.wait_for(lambda: any(self.queues.values()))
                table = max(TABLES, key=lambda t: len(self.queues[t]))
                inds = self.queues[table][:PUT_RECORDS_LIMIT]
                del self.queues[table][:PUT_RECORDS_LIMIT]
                self.in_flight += 1
            try:
                self._put(table, inds)
            finally:
                with self.wake:
                    self.in_flight -= 1
                    self.sent += len(inds)
                    self.timeline.append((time.time(), self.sent))
                    self.wake.notify_all()

    def _put(self, table: str, inds: list[int]) -> None:
        """PutRecords until every record is in, counting what Kinesis asked to resend."""
        sent_ms = int(time.time() * 1000)
        records = [
            {"PartitionKey": str(ind), "Data": json.dumps(source_row(table, ind, sent_ms)).encode()} for ind in inds
        ]
        while records:
            response = self.client.put_records(StreamName=self.streams[table], Records=records)
            failed = [r for r, res in zip(records, response["Records"], strict=True) if "ErrorCode" in res]
            with self.lock:
                self.resent += len(failed)
            records = failed


def delta_commits(table_dir: Path, sent_column: str) -> list[tuple[int, list[int], list[int]]]:
    """Each data commit of a Delta table as (commit ms, inds added, send ms of those rows), from ``_delta_log``."""
    commits = []
    for log_file in sorted((table_dir / "_delta_log").glob("*.json")):
        commit_ms, files = None, []
        for line in log_file.read_text().splitlines():
            action = json.loads(line)
            if "commitInfo" in action:
                commit_ms = action["commitInfo"]["timestamp"]
            elif "add" in action and action["add"].get("dataChange", True):
                files.append(action["add"]["path"])
        inds: list[int] = []
        sent: list[int] = []
        for path in files:
            data = pq.read_table(table_dir / path, columns=["ind", sent_column]).to_pydict()
            inds += data["ind"]
            sent += [int(value) for value in data[sent_column]]
        if inds:
            commits.append((commit_ms, inds, sent))
    return commits


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def read_statuses(state: Path) -> dict[str, dict]:
    return {t: json.loads((state / "stream" / "status" / f"{t}.json").read_text()) for t in TABLES}


def rows_committed(state: Path) -> int:
    """Rows in the three tables, as the driver's status files report them."""
    return sum(status.get("rows_in_table") or 0 for status in read_statuses(state).values())


def per_batch(before: dict, after: dict, totals: str, batches: int) -> dict[str, int]:
    """Average ms per data batch of each duration summed in ``totals``, between two status snapshots."""
    earlier, later = before.get(totals, {}), after.get(totals, {})
    return {k: round((later[k] - earlier.get(k, 0)) / batches) for k in sorted(later)} if batches else {}


def breakdown(before: dict[str, dict], after: dict[str, dict], cpu_s: float) -> dict:
    """Per table: data batches, Spark's durations and the writer's phases per batch, idle time, estimated CPU.

    Spark's durations are averaged over the batches whose progress the driver saw (it polls), the writer's over all.

    The job's CPU is measured for the driver's whole session; each table's ``cpu_s_per_batch`` shares it out by the
    table's part of the busy time (``triggerExecution``), an estimate: the three queries share one JVM.
    """
    tables = {}
    for table in TABLES:
        batches = after[table].get("data_batches", 0) - before[table].get("data_batches", 0)
        reported = after[table].get("progress_batches", 0) - before[table].get("progress_batches", 0)
        spark_ms = per_batch(before[table], after[table], "trigger_ms_total", reported)
        writer_ms = per_batch(before[table], after[table], "phase_wall_ms_total", batches)
        tables[table] = {
            "data_batches": batches,
            "spark_ms_per_batch": spark_ms,
            "writer_ms_per_batch": writer_ms,
            "idle_ms_per_batch": max(0, round(TRIGGER_INTERVAL_S * 1000 - spark_ms.get("triggerExecution", 0))),
            "busy_s": batches * spark_ms.get("triggerExecution", 0) / 1000,
        }
    busy = sum(t["busy_s"] for t in tables.values()) or 1.0
    for entry in tables.values():
        share = cpu_s * entry.pop("busy_s") / busy
        entry["cpu_s_per_batch"] = round(share / entry["data_batches"], 3) if entry["data_batches"] else None
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="200,1000", help="steady rates, events/s; the first is the headline")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds at each steady rate")
    parser.add_argument("--steps", default="1500,2000", help="stepped rates after the steady ones, events/s")
    parser.add_argument("--step-duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds at the first rate before measuring")
    args = parser.parse_args(argv)
    # SIGTERM runs the clean-up below (the driver and the Kinesis endpoint live in their own process groups).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    rates = [float(r) for r in args.rates.split(",") if r]
    steps = [float(s) for s in args.steps.split(",") if s]
    # Other work on the machine slows everything here: the load is part of the result.
    load_at_start = load_average()

    work = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    lake, state = work / "lake", work / "state"
    prefix = "bench"
    kinesis_process, endpoint = start_kinesis(work / "kinesis.log")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PINTEREST_TOPIC_PREFIX": prefix,
        "PINTEREST_LAKE_ROOT": str(lake),
        "PINTEREST_STATE_DIR": str(state),
        "KINESIS_ENDPOINT_URL": endpoint,
    }
    env.pop("S3_ENDPOINT_URL", None)
    client = boto3.client(
        "kinesis",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(max_pool_connections=SENDER_THREADS, retries={"mode": "standard", "max_attempts": 8}),
    )
    streams = {t: f"streaming-{prefix}-{t}" for t in TABLES}
    driver = None
    boundaries = []
    try:
        for stream in streams.values():
            client.create_stream(StreamName=stream, ShardCount=SHARDS_PER_STREAM)
        time.sleep(1)
        driver = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "include.pinterest.streaming",
                "start",
                "--trigger-interval",
                f"{TRIGGER_INTERVAL_S} seconds",
            ],
            cwd=REPO,
            env=env,
            stdout=(work / "driver.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        sender = Sender(client, streams)
        # Warm-up, not measured: the first batches pay for class loading and JIT compilation.
        sender.run(rate=30, duration_s=2)
        wait_until(lambda: rows_committed(state) >= sender.sent, timeout_s=600, what="first rows")
        sender.run(rate=rates[0], duration_s=args.warmup)
        wait_until(lambda: rows_committed(state) >= sender.sent, timeout_s=600, what="warm-up rows")
        print(f"warm-up done ({sender.sent} events)", flush=True)

        phases = [(f"steady-{int(r)}", r, args.duration) for r in rates]
        phases += [(f"step-{int(r)}", r, args.step_duration) for r in steps]
        for name, rate, duration in phases:
            first_ind, started = sender.next_ind, time.time()
            statuses, cpu, kinesis_cpu, sender_cpu = (
                read_statuses(state),
                session_cpu_s(driver.pid),
                session_cpu_s(kinesis_process.pid),
                time.process_time(),
            )
            sender.run(rate, duration)
            ended = time.time()
            boundaries.append(
                {
                    "name": name,
                    "rate": rate,
                    "first_ind": first_ind,
                    "last_ind": sender.next_ind,
                    "start": started,
                    "end": ended,
                    "job_cpu_s": session_cpu_s(driver.pid) - cpu,
                    "kinesis_endpoint_cpu_s": session_cpu_s(kinesis_process.pid) - kinesis_cpu,
                    "sender_cpu_s": time.process_time() - sender_cpu,
                    "breakdown": (statuses, read_statuses(state)),
                    "load_average": load_average(),
                }
            )
            print(f"{name}: sent {sender.next_ind - first_ind} events in {ended - started:.1f} s", flush=True)
            behind = sender.sent - rows_committed(state)
            if name.startswith("step") and behind > 2 * rate:
                print(f"{behind} events not landed yet, more than 2 s of the rate: no higher step", flush=True)
                break
        drained = wait_until(lambda: rows_committed(state) >= sender.sent, timeout_s=600, what="drain")
    finally:
        if driver is not None:
            stop_group(driver, grace_s=120)
        stop_group(kinesis_process, grace_s=5)

    latency_by_ind: dict[int, float] = {}
    commit_times: list[tuple[float, int]] = []
    rows_in_tables = 0  # every event is one row of one table: more rows than distinct inds would be doubles
    for table in TABLES:
        for commit_ms, inds, sent in delta_commits(lake / "stream" / f"{prefix}_{table}_table", SENT_COLUMN[table]):
            commit_times.append((commit_ms / 1000, len(inds)))
            rows_in_tables += len(inds)
            for ind, sent_ms in zip(inds, sent, strict=True):
                latency_by_ind.setdefault(ind, (commit_ms - sent_ms) / 1000)
    commit_times.sort()
    commit_clock = [t for t, _ in commit_times]
    committed_cumulative = [0]
    for _, n in commit_times:
        committed_cumulative.append(committed_cumulative[-1] + n)
    sent_clock = [t for t, _ in sender.timeline]

    def backlog_at(moment: float) -> int:
        sent = sender.timeline[max(0, bisect.bisect_right(sent_clock, moment) - 1)][1]
        committed = committed_cumulative[bisect.bisect_right(commit_clock, moment)]
        return sent - committed

    phases_out = []
    for b in boundaries:
        latencies = [latency_by_ind[i] for i in range(b["first_ind"], b["last_ind"]) if i in latency_by_ind]
        mid = b["start"] + (b["end"] - b["start"]) / 2
        growth = backlog_at(b["end"]) - backlog_at(mid)
        events = b["last_ind"] - b["first_ind"]
        actual_rate = events / (b["end"] - b["start"])
        tables = breakdown(*b["breakdown"], cpu_s=b["job_cpu_s"])
        batches = sum(t["data_batches"] for t in tables.values())
        phases_out.append(
            {
                "name": b["name"],
                "target_rate": b["rate"],
                "actual_rate": round(actual_rate, 1),
                "events": events,
                "landed": len(latencies),
                **latency_summary(latencies),
                "backlog_mid": backlog_at(mid),
                "backlog_end": backlog_at(b["end"]),
                "sustained": bool(latencies) and growth <= actual_rate,
                "job_cpu_s": round(b["job_cpu_s"], 1),
                "cpu_s_per_batch": round(b["job_cpu_s"] / batches, 3) if batches else None,
                "cpu_ms_per_event": round(1000 * b["job_cpu_s"] / events, 2) if events else None,
                "kinesis_endpoint_cpu_s": round(b["kinesis_endpoint_cpu_s"], 1),
                "sender_cpu_s": round(b["sender_cpu_s"], 1),
                "load_average_at_end": b["load_average"],
                "tables": tables,
            }
        )
    headline = phases_out[0]
    sustained = [p["actual_rate"] for p in phases_out if p["sustained"]]
    result = {
        "what": "PutRecords -> row readable in Delta (commit timestamp of the adding commit), 3 streams round-robin",
        "machine": {
            **machine(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": load_average(),
        },
        "rate": rates[0],
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "events": headline["events"],
        "landed": headline["landed"],
        **{k: headline[k] for k in ("p50_s", "p95_s", "p99_s", "max_s")},
        "max_sustained_events_per_s": max(sustained) if sustained else None,
        "all_rows_landed": drained and len(latency_by_ind) == sender.next_ind,
        "duplicate_rows": rows_in_tables - len(latency_by_ind),
        "put_failures_resent": sender.resent,
        "sender_limited": any(p["actual_rate"] < 0.95 * p["target_rate"] for p in phases_out),
        "cpu_s_per_batch": {t: headline["tables"][t]["cpu_s_per_batch"] for t in TABLES},
        "breakdown": headline["tables"],
        "phases": phases_out,
        "trigger_interval_s": TRIGGER_INTERVAL_S,
        "shards_per_stream": SHARDS_PER_STREAM,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


def latency_summary(latencies: list[float]) -> dict[str, float | None]:
    if not latencies:
        return {"p50_s": None, "p95_s": None, "p99_s": None, "max_s": None}
    return {
        "p50_s": round(statistics.median(latencies), 3),
        "p95_s": round(percentile(latencies, 0.95), 3),
        "p99_s": round(percentile(latencies, 0.99), 3),
        "max_s": round(max(latencies), 3),
    }


def wait_until(condition, timeout_s: float, what: str) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except (FileNotFoundError, json.JSONDecodeError):
            pass
        time.sleep(0.5)
    print(f"timed out waiting for {what}", flush=True)
    return False


if __name__ == "__main__":
    sys.exit(main())
