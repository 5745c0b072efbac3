"""Streaming benchmark: end-to-end latency from PutRecords to a readable Delta row, and the highest sustained rate.

It runs the real driver (``python -m include.pinterest.streaming start``: three queries, one per stream) against a
private kinesis-mock and a local-disk lake, warms it up (``--warmup`` s at the steady rate, not measured: class
loading and JIT), sends records at a steady rate, then steps the rate up until the job or the sender gives out.

- An *event* is one Kinesis record; events go round-robin to the pin, geo and user streams (a third each).
- Send time: the client clock just before the PutRecords call, embedded in the record itself (pin
  ``unique_id``, geo ``country``, user ``first_name`` -> ``user_name``), so the row in Delta carries it.
- Readable time: the ``commitInfo.timestamp`` of the Delta commit that added the row's file (read from
  ``_delta_log``): the moment a reader of the table can see it. Latency = readable time - send time.
- Sustained: during a step the backlog (events sent - rows committed) must not grow between the middle and the
  end of the step by more than one second's worth of events. The highest such step is reported.

Usage: ``.venv/bin/python benchmarks/streaming.py [--rate 200 --duration 60 --steps 400,800,1600,3200]``;
writes ``benchmarks/results/streaming.json``.
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
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.machine import machine

KINESIS_MOCK = REPO / ".cache" / "node" / "node_modules" / "kinesis-local" / "main.js"
RESULT = REPO / "benchmarks" / "results" / "streaming.json"
TABLES = ("pin", "geo", "user")
SENT_COLUMN = {"pin": "unique_id", "geo": "country", "user": "user_name"}
SHARDS_PER_STREAM = 4
TICK_S = 0.1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_kinesis(log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {
        **os.environ,
        "KINESIS_MOCK_PLAIN_PORT": str(port),
        "KINESIS_MOCK_TLS_PORT": str(free_port()),
        "KINESIS_MOCK_CERT_PATH": str(KINESIS_MOCK.parent / "server.json"),
        "SHOULD_PERSIST_DATA": "false",
        "LOG_LEVEL": "WARN",
        "CREATE_STREAM_DURATION": "100ms",
    }
    process = subprocess.Popen(
        ["node", str(KINESIS_MOCK)], env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process, f"http://127.0.0.1:{port}"
        time.sleep(0.2)
    raise TimeoutError("kinesis-mock did not start")


def stop_group(process: subprocess.Popen, grace_s: float = 60) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def source_row(table: str, ind: int, sent_ms: int) -> dict:
    """A valid source row whose text field carries the send time."""
    if table == "pin":
        return {
            "index": ind, "unique_id": str(sent_ms), "title": "t", "description": "d", "poster_name": "p",
            "follower_count": "12k", "tag_list": "a,b", "is_image_or_video": "image", "image_src": "x",
            "downloaded": 1, "save_location": "Local save in /data/art", "category": "art",
        }
    if table == "geo":
        return {"ind": ind, "timestamp": "2020-08-28T03:52:47", "latitude": 1.0, "longitude": 2.0,
                "country": str(sent_ms)}
    return {"ind": ind, "first_name": str(sent_ms), "age": 30, "date_joined": "2016-01-01 00:00:00"}


class Sender:
    """Sends at a given rate in ticks of 100 ms and keeps a log of (time, events sent so far)."""

    def __init__(self, client, streams: dict[str, str]) -> None:
        self.client = client
        self.streams = streams
        self.next_ind = 0
        self.sent = 0
        self.timeline: list[tuple[float, int]] = []
        self.failed = 0
        self.pool = ThreadPoolExecutor(max_workers=len(TABLES))

    def run(self, rate: float, duration_s: float) -> None:
        start = time.time()
        ticks = int(duration_s / TICK_S)
        owed = 0.0
        for tick in range(ticks):
            target = start + tick * TICK_S
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            owed += rate * TICK_S
            count, owed = int(owed), owed - int(owed)
            self._send(count)
            self.timeline.append((time.time(), self.sent))

    def _send(self, count: int) -> None:
        sent_ms = int(time.time() * 1000)
        per_table: dict[str, list[dict]] = {t: [] for t in TABLES}
        for _ in range(count):
            table = TABLES[self.next_ind % 3]
            row = source_row(table, self.next_ind, sent_ms)
            per_table[table].append({"PartitionKey": str(self.next_ind), "Data": json.dumps(row).encode()})
            self.next_ind += 1
        # The three streams in parallel: one PutRecords round trip per tick instead of three.
        self.failed += sum(self.pool.map(self._put, per_table.items()))
        self.sent += count

    def _put(self, item: tuple[str, list[dict]]) -> int:
        """PutRecords until every record is in; returns how many had to be resent."""
        table, records = item
        resent = 0
        while records:
            response = self.client.put_records(StreamName=self.streams[table], Records=records[:500])
            failed = [r for r, res in zip(records[:500], response["Records"]) if "ErrorCode" in res]
            resent += len(failed)
            records = failed + records[500:]
        return resent


def delta_commits(table_dir: Path, sent_column: str) -> list[tuple[int, list[int], list[int]]]:
    """Each commit of a Delta table as (commit ms, inds added, send ms of those rows), from ``_delta_log``."""
    commits = []
    for log_file in sorted((table_dir / "_delta_log").glob("*.json")):
        commit_ms, files = None, []
        for line in log_file.read_text().splitlines():
            action = json.loads(line)
            if "commitInfo" in action:
                commit_ms = action["commitInfo"]["timestamp"]
            elif "add" in action:
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


def rows_committed(state: Path) -> int:
    """Rows in the three tables, as the driver's status files report them."""
    total = 0
    for table in TABLES:
        status = json.loads((state / "stream" / "status" / f"{table}.json").read_text())
        total += status.get("rows_in_table") or 0
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=200.0, help="steady rate, events/s")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds at the steady rate")
    parser.add_argument("--steps", default="400,800,1600,3200", help="stepped rates, events/s")
    parser.add_argument("--step-duration", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds at the steady rate before measuring")
    args = parser.parse_args(argv)
    # SIGTERM runs the clean-up below (the driver and kinesis-mock live in their own process groups).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    steps = [float(s) for s in args.steps.split(",") if s]
    # Other work on the machine slows everything here: the load is part of the result.
    load_at_start = [round(x, 2) for x in os.getloadavg()]

    work = Path(tempfile.mkdtemp(prefix="bench-streaming-"))
    lake, state = work / "lake", work / "state"
    prefix = "bench"
    kinesis_process, endpoint = start_kinesis(work / "kinesis.log")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
        "PINTEREST_TOPIC_PREFIX": prefix, "PINTEREST_LAKE_ROOT": str(lake), "PINTEREST_STATE_DIR": str(state),
        "KINESIS_ENDPOINT_URL": endpoint,
    }
    env.pop("S3_ENDPOINT_URL", None)
    client = boto3.client("kinesis", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    streams = {t: f"streaming-{prefix}-{t}" for t in TABLES}
    driver = None
    try:
        for stream in streams.values():
            client.create_stream(StreamName=stream, ShardCount=SHARDS_PER_STREAM)
        time.sleep(1)
        driver = subprocess.Popen(
            [sys.executable, "-m", "include.pinterest.streaming", "start"], cwd=REPO, env=env,
            stdout=(work / "driver.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        sender = Sender(client, streams)
        # Warm-up, not measured: the first batches pay for class loading and JIT compilation.
        sender.run(rate=30, duration_s=2)
        wait_until(lambda: rows_committed(state) >= sender.sent, timeout_s=600, what="first rows")
        sender.run(rate=args.rate, duration_s=args.warmup)
        wait_until(lambda: rows_committed(state) >= sender.sent, timeout_s=600, what="warm-up rows")
        warm_sent = sender.sent
        print(f"warm-up done ({warm_sent} events); steady {args.rate}/s for {args.duration} s", flush=True)

        phases = [("steady", args.rate, args.duration)] + [(f"step-{int(r)}", r, args.step_duration) for r in steps]
        boundaries = []
        for name, rate, duration in phases:
            first_ind, started = sender.next_ind, time.time()
            sender.run(rate, duration)
            elapsed = time.time() - started
            boundaries.append({"name": name, "rate": rate, "first_ind": first_ind, "last_ind": sender.next_ind,
                               "start": started, "end": time.time()})
            print(f"{name}: sent {sender.next_ind - first_ind} events in {elapsed:.1f} s", flush=True)
            if (sender.next_ind - first_ind) / elapsed < 0.8 * rate:
                print("the sender cannot reach this rate on this machine: no higher step", flush=True)
                break
        drained = wait_until(lambda: rows_committed(state) >= sender.sent, timeout_s=300, what="drain")
    finally:
        if driver is not None:
            stop_group(driver, grace_s=120)
        stop_group(kinesis_process, grace_s=5)

    latency_by_ind: dict[int, float] = {}
    commit_times: list[tuple[float, int]] = []
    for table in TABLES:
        for commit_ms, inds, sent in delta_commits(lake / "stream" / f"{prefix}_{table}_table", SENT_COLUMN[table]):
            commit_times.append((commit_ms / 1000, len(inds)))
            for ind, sent_ms in zip(inds, sent):
                latency_by_ind[ind] = (commit_ms - sent_ms) / 1000
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
        actual_rate = (b["last_ind"] - b["first_ind"]) / (b["end"] - b["start"])
        phases_out.append({
            "name": b["name"], "target_rate": b["rate"], "actual_rate": round(actual_rate, 1),
            "events": b["last_ind"] - b["first_ind"], "landed": len(latencies),
            "p50_s": round(statistics.median(latencies), 3) if latencies else None,
            "p95_s": round(percentile(latencies, 0.95), 3) if latencies else None,
            "backlog_mid": backlog_at(mid), "backlog_end": backlog_at(b["end"]),
            "sustained": bool(latencies) and growth <= actual_rate,
        })
    steady = phases_out[0]
    steady_latencies = [latency_by_ind[i] for i in range(boundaries[0]["first_ind"], boundaries[0]["last_ind"])
                        if i in latency_by_ind]
    sustained = [p["actual_rate"] for p in phases_out if p["sustained"]]
    result = {
        "what": "PutRecords -> row readable in Delta (commit timestamp of the adding commit), 3 streams round-robin",
        "machine": {**machine(), "load_average_at_start": load_at_start,
                    "load_average_at_end": [round(x, 2) for x in os.getloadavg()]},
        "rate": args.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "events": steady["events"],
        "landed": steady["landed"],
        "p50_s": round(percentile(steady_latencies, 0.50), 3),
        "p95_s": round(percentile(steady_latencies, 0.95), 3),
        "p99_s": round(percentile(steady_latencies, 0.99), 3),
        "max_s": round(max(steady_latencies), 3),
        "max_sustained_events_per_s": max(sustained) if sustained else None,
        "all_rows_landed": drained and len(latency_by_ind) == sender.next_ind,
        "put_failures_resent": sender.failed,
        "sender_limited": any(p["actual_rate"] < 0.8 * p["target_rate"] for p in phases_out),
        "phases": phases_out,
        "trigger_interval_s": 1,
        "shards_per_stream": SHARDS_PER_STREAM,
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


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
