"""Ingestion benchmark: the API next to the raw producer and to direct Kinesis, the cost grid, memory, generator.

Runs against the platform named by the usual variables (INGEST_API_URL, INGEST_API_KEY,
KAFKA_BOOTSTRAP_SERVERS, KINESIS_ENDPOINT_URL, PINTEREST_STATE_DIR for the services' pid files) and writes
``benchmarks/results/ingestion.json``:

- ``events_per_s``, ``p50_ms``, ``p99_ms``: the emulator posting through the API into Kafka (acks=all,
  idempotent; one event = three records), batches of 500, 4 batches in flight, sampled from a
  1,000,000-row source and read before the clock starts (``--preload``); ``cpu_us_per_event``: CPU of the
  emulator, the API (all its processes) and the broker during that run, per event;
- ``raw_producer_events_per_s``: confluent-kafka writing the same kind of records straight to the same
  broker with the API's producer settings, in the same run, its records also read and encoded before its
  clock starts; ``ratio`` = API / raw;
- ``live_source``: one more API run with the emulator reading the source while it sends (the way the
  pipeline's posting task runs), to show what the reading costs on the same two cores;
- ``pairs``: the API and raw runs alternate (``--pairs``, default 5) so both see the same machine, which is
  shared and whose speed drifts; the top-level figures are the medians (latency and CPU: the median API run);
- ``warm_up``: both paths under load before any measured run (``--warmup-seconds``, default 120): a
  freshly started broker spends several times more CPU per event while its JIT compiles;
- ``stream_events_per_s`` and ``direct_kinesis_events_per_s``: stream mode through the API (PutRecords)
  and boto3 PutRecords straight to the Kinesis endpoint, same batches and concurrency; ``stream_ratio``;
- ``grid``: events/s, latency and CPU per event at 1, 50 and 500 records per request and 1 and 4
  batches in flight (each cell bounded by events and seconds);
- ``emulator_peak_rss_mb``: the emulator's peak RSS on the 1,000,000-row source (next to the 10,000-row
  figure, which should be about the same: memory must not grow with the source);
- ``generator_rows_per_s``: rows per table per second while generating 1,000,000 rows per table;
- ``machine``: with the load average at the start and at the end (the machine is shared).

Usage: ``python -m benchmarks.ingestion [--events 100000] [--pairs 5] [--stream-events 5000] [--work-dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import psutil
from confluent_kafka import Producer

from benchmarks.machine import load_average, machine
from include.pinterest.emulator import Emulator, EmulatorConfig
from include.pinterest.emulator.reader import PostReader, open_source
from include.pinterest.ingest.producer import producer_config
from include.pinterest.settings import TABLES, Settings
from include.pinterest.source import write_source
from local_platform.provision import ensure_streams, ensure_topics

REPO = Path(__file__).resolve().parent.parent
RESULT = REPO / "benchmarks" / "results" / "ingestion.json"
REQUIRED = (
    "INGEST_API_URL",
    "INGEST_API_KEY",
    "KAFKA_BOOTSTRAP_SERVERS",
    "KINESIS_ENDPOINT_URL",
    "PINTEREST_STATE_DIR",
)
GRID_BATCH_SIZES = (1, 50, 500)
GRID_CONCURRENCY = (1, 4)
STREAM_BATCH_SIZE, STREAM_CONCURRENCY = 100, 2  # the local endpoint (kinesalite) is single-threaded JavaScript


class CpuMeter:
    """CPU seconds used by the emulator (this process), the API and the broker, each a process tree.

    An API run counts the emulator's CPU from its summary instead, which leaves out any preload.
    """

    def __init__(self, state_dir: Path) -> None:
        def tree(service: str) -> list[psutil.Process]:
            root = psutil.Process(int((state_dir / "run" / f"{service}.pid").read_text()))
            return [root, *root.children(recursive=True)]

        self.processes = {"emulator": [psutil.Process()], "api": tree("ingest-api"), "broker": tree("kafka")}

    def seconds(self) -> dict[str, float]:
        return {
            part: sum(p.cpu_times().user + p.cpu_times().system for p in processes)
            for part, processes in self.processes.items()
        }

    def per_event(self, before: dict[str, float], events: int) -> dict[str, float]:
        after = self.seconds()
        return {part: round((after[part] - before[part]) / max(events, 1) * 1e6, 1) for part in after}


def generate(work: Path, rows: int) -> tuple[str, float]:
    """A fresh source with ``rows`` rows per table, and the rows per table per second it was generated at."""
    url = f"sqlite:///{work / f'source-{rows}.db'}"
    result = write_source(url, rows=rows, seed=42, replace=True)
    return url, rows / result.seconds


def api_run(
    env: dict[str, str],
    meter: CpuMeter,
    source_url: str,
    mode: str,
    batch_size: int,
    concurrency: int,
    events: int | None,
    duration_s: float | None = None,
    preload: bool = True,
) -> dict[str, Any]:
    """One emulator run through the API, with the CPU per accepted event of each part.

    ``preload`` (unless the run is bounded by time only): the posts are read before the clock and the
    CPU meters start, as the raw producer's records are.
    """
    config = EmulatorConfig(
        source_url=source_url,
        target_url=env["INGEST_API_URL"],
        api_key=env["INGEST_API_KEY"],
        mode=mode,
        events=events,
        duration_s=duration_s,
        batch_size=batch_size,
        concurrency=concurrency,
        preload=preload and events is not None,
    )
    before = meter.seconds()
    summary = Emulator(config).run().as_dict()
    cpu = meter.per_event(before, summary["accepted"])  # the API and the broker are idle while it preloads
    cpu["emulator"] = round(summary["cpu_s"] / max(summary["accepted"], 1) * 1e6, 1)
    return {**summary, "cpu_us_per_event": cpu}


def sample_posts(source_url: str, events: int, seed: int) -> list[Any]:
    """``events`` posts sampled like the emulator does, read before any clock starts."""
    engine = open_source(source_url)
    batches = PostReader(engine).sampled(500, seed=seed)
    posts: list[Any] = []
    while len(posts) < events:
        posts.extend(next(batches))
    batches.close()
    engine.dispose()
    return posts[:events]


def raw_producer_run(
    bootstrap: str, meter: CpuMeter, source_url: str, events: int, settings: Settings
) -> dict[str, Any]:
    """Events/s of confluent-kafka alone, with the records serialized before the clock starts."""
    messages = [
        (settings.topic(table), str(post.ind).encode(), getattr(post, table))
        for post in sample_posts(source_url, events, seed=43)
        for table in TABLES
    ]
    producer = Producer(producer_config(bootstrap, delivery_timeout_ms=60_000))
    failures = 0

    def on_delivery(err, _msg) -> None:
        nonlocal failures
        failures += err is not None

    before = meter.seconds()
    started = time.perf_counter()
    for topic, key, value in messages:
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=on_delivery)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(120)
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"the raw producer failed {failures} deliveries")
    cpu = meter.per_event(before, events)
    return {
        "events_per_s": round(events / elapsed, 1),
        "cpu_us_per_event": {"producer": cpu["emulator"], "broker": cpu["broker"]},
    }


def warm_up(
    env: dict[str, str], meter: CpuMeter, source_url: str, seconds: float, raw_events: int, settings: Settings
) -> dict:
    """Load on both paths before any measured run: the API for ``seconds``, then ``raw_events`` through the raw
    producer.

    A broker fresh from start spends several times more CPU per event while its JIT compiles (measured
    2026-12-02: 126 us per API event in the first 20,000, still 40-48 in the next minute, 12-17 after two
    minutes of load); short warm-up rounds looked settled long before that.
    """
    api = api_run(env, meter, source_url, "batch", 500, 4, events=None, duration_s=seconds)
    raw = raw_producer_run(env["KAFKA_BOOTSTRAP_SERVERS"], meter, source_url, raw_events, settings)
    return {
        "seconds": seconds,
        "events_per_s": api["events_per_s"],
        "cpu_us_per_event": api["cpu_us_per_event"],
        "raw_producer_events_per_s": raw["events_per_s"],
        "raw_producer_cpu_us_per_event": raw["cpu_us_per_event"],
    }


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median events/s (the lower middle one of an even count)."""
    return sorted(runs, key=lambda run: run["events_per_s"])[(len(runs) - 1) // 2]


def fresh_streams(kinesis: Any, settings: Settings) -> None:
    """Delete and recreate the streams, so records left by earlier runs do not weigh on the run measured."""
    present = set(kinesis.list_streams()["StreamNames"])
    for stream in settings.streams:
        if stream in present:
            kinesis.delete_stream(StreamName=stream)
            kinesis.get_waiter("stream_not_exists").wait(
                StreamName=stream, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
            )
    ensure_streams(kinesis, settings)


def direct_kinesis_run(kinesis: Any, source_url: str, events: int, settings: Settings, duration_s: float) -> float:
    """Events/s of boto3 PutRecords straight to the endpoint: same batches and requests in flight as the API
    run, and like it stopped after ``duration_s`` (batches not started by then are not sent or counted)."""
    posts = sample_posts(source_url, events, seed=44)
    batches = [
        (
            settings.stream(table),
            [{"Data": getattr(p, table), "PartitionKey": str(p.ind)} for p in posts[start : start + STREAM_BATCH_SIZE]],
        )
        for start in range(0, len(posts), STREAM_BATCH_SIZE)
        for table in TABLES
    ]

    def put(stream: str, entries: list[dict[str, Any]]) -> int:
        if time.perf_counter() - started > duration_s:
            return 0
        sent = len(entries)
        for _ in range(20):  # throttled records go again, as the emulator does through the API
            answer = kinesis.put_records(StreamName=stream, Records=entries)
            entries = [e for e, r in zip(entries, answer["Records"], strict=True) if r.get("ErrorCode")]
            if not entries:
                return sent
            time.sleep(0.2)
        raise RuntimeError(f"{len(entries)} records still throttled on {stream}")

    started = time.perf_counter()
    with ThreadPoolExecutor(STREAM_CONCURRENCY * len(TABLES)) as pool:
        records = sum(pool.map(lambda batch: put(*batch), batches))
    return records / len(TABLES) / (time.perf_counter() - started)


def emulator_peak_rss_mb(env: dict[str, str], source_url: str, events: int) -> float:
    """Peak RSS of the emulator CLI in its own process, sampled every 20 ms."""
    command = [
        sys.executable,
        "-m",
        "include.pinterest.emulator",
        "--source-url",
        source_url,
        "--target-url",
        env["INGEST_API_URL"],
        "--events",
        str(events),
        "--batch-size",
        "500",
    ]
    process = psutil.Popen(
        command, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    peak = 0
    while process.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.NoSuchProcess:
            break
        time.sleep(0.02)
    if process.returncode != 0:
        raise RuntimeError(f"the emulator exited with {process.returncode}")
    return round(peak / 2**20, 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="events through the API and the raw producer")
    parser.add_argument("--stream-events", type=int, default=5_000, help="events through the API into Kinesis")
    parser.add_argument("--stream-seconds", type=float, default=60.0, help="at most this long per stream run")
    parser.add_argument("--grid-events", type=int, default=30_000, help="at most this many events per grid cell")
    parser.add_argument("--grid-seconds", type=float, default=10.0, help="at most this long per grid cell")
    parser.add_argument("--pairs", type=int, default=5, help="alternating API and raw producer runs measured")
    parser.add_argument("--warmup-seconds", type=float, default=120.0, help="load before the measured runs")
    parser.add_argument("--rss-events", type=int, default=20_000, help="events per emulator memory run")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table of the large source")
    parser.add_argument("--work-dir", type=Path, help="where the sources go (default: a temporary folder)")
    args = parser.parse_args(argv)
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        parser.error(f"set {', '.join(missing)} (the platform's client variables, e.g. from `make up`)")
    env = {name: os.environ[name] for name in REQUIRED}
    settings = Settings()
    meter = CpuMeter(Path(env["PINTEREST_STATE_DIR"]))
    load_at_start = load_average()

    with tempfile.TemporaryDirectory(prefix="ingestion-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        print(f"generating {args.rows:,} rows per table ...", flush=True)
        large_url, generator_rows_per_s = generate(work, args.rows)
        print(f"  {generator_rows_per_s:,.0f} rows per table per second", flush=True)
        small_url, _ = generate(work, 10_000)
        ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], settings)
        ensure_streams(boto3.client("kinesis", endpoint_url=env["KINESIS_ENDPOINT_URL"]), settings)

        print(f"warming up: {args.warmup_seconds:.0f} s through the API, then the raw producer ...", flush=True)
        warmed = warm_up(env, meter, large_url, args.warmup_seconds, args.events, settings)
        print(f"  broker CPU us per API event while warming: {warmed['cpu_us_per_event']['broker']}", flush=True)

        pairs = []
        for pair in range(1, args.pairs + 1):
            print(
                f"pair {pair}: {args.events:,} events through the API into Kafka, then the raw producer ...", flush=True
            )
            api = api_run(env, meter, large_url, "batch", batch_size=500, concurrency=4, events=args.events)
            raw = raw_producer_run(env["KAFKA_BOOTSTRAP_SERVERS"], meter, large_url, args.events, settings)
            pairs.append({"api": api, "raw": raw, "ratio": round(api["events_per_s"] / raw["events_per_s"], 3)})
            print(
                f"  API {api['events_per_s']:,.0f} events/s (p50 {api['latency_p50_ms']} ms, p99 "
                f"{api['latency_p99_ms']} ms, CPU us/event {api['cpu_us_per_event']}); raw {raw['events_per_s']:,.0f} "
                f"events/s (CPU us/event {raw['cpu_us_per_event']}); ratio {pairs[-1]['ratio']}",
                flush=True,
            )
        api = median_run([p["api"] for p in pairs])
        raw = median_run([p["raw"] for p in pairs])
        print(f"{args.events:,} events through the API, the emulator reading the source as it sends ...", flush=True)
        live = api_run(env, meter, large_url, "batch", 500, 4, events=args.events, preload=False)
        print(f"  {live['events_per_s']:,.0f} events/s (CPU us/event {live['cpu_us_per_event']})", flush=True)

        grid = []
        for batch_size in GRID_BATCH_SIZES:
            for concurrency in GRID_CONCURRENCY:
                cell = api_run(
                    env,
                    meter,
                    large_url,
                    "batch",
                    batch_size,
                    concurrency,
                    events=args.grid_events,
                    duration_s=args.grid_seconds,
                )
                grid.append(
                    {
                        "batch_size": batch_size,
                        "concurrency": concurrency,
                        "events_per_s": cell["events_per_s"],
                        "p50_ms": cell["latency_p50_ms"],
                        "p99_ms": cell["latency_p99_ms"],
                        "cpu_us_per_event": cell["cpu_us_per_event"],
                        "failed": cell["failed"],
                    }
                )
                print(f"  grid {batch_size:>3} records x {concurrency} in flight: {grid[-1]}", flush=True)

        print(f"{args.stream_events:,} events through the API into Kinesis, then straight to Kinesis ...", flush=True)
        kinesis = boto3.client("kinesis", endpoint_url=env["KINESIS_ENDPOINT_URL"])
        fresh_streams(kinesis, settings)
        stream = api_run(
            env,
            meter,
            large_url,
            "stream",
            STREAM_BATCH_SIZE,
            STREAM_CONCURRENCY,
            events=args.stream_events,
            duration_s=args.stream_seconds,
        )
        fresh_streams(kinesis, settings)
        direct = direct_kinesis_run(kinesis, large_url, args.stream_events, settings, args.stream_seconds)
        print(f"  API {stream['events_per_s']:,.0f} events/s, direct {direct:,.0f} events/s", flush=True)
        print("emulator memory with 10k and 1M sources ...", flush=True)
        rss_small = emulator_peak_rss_mb(env, small_url, args.rss_events)
        rss_large = emulator_peak_rss_mb(env, large_url, args.rss_events)

    result = {
        "events_per_s": api["events_per_s"],
        "raw_producer_events_per_s": raw["events_per_s"],
        "ratio": statistics.median(p["ratio"] for p in pairs),
        "p50_ms": api["latency_p50_ms"],
        "p99_ms": api["latency_p99_ms"],
        "cpu_us_per_event": api["cpu_us_per_event"],
        "raw_producer_cpu_us_per_event": raw["cpu_us_per_event"],
        "live_source": {
            "events_per_s": live["events_per_s"],
            "p99_ms": live["latency_p99_ms"],
            "cpu_us_per_event": live["cpu_us_per_event"],
        },
        "stream_events_per_s": stream["events_per_s"],
        "direct_kinesis_events_per_s": round(direct, 1),
        "stream_ratio": round(stream["events_per_s"] / direct, 3),
        "stream_p99_ms": stream["latency_p99_ms"],
        "pairs": [
            {
                "events_per_s": p["api"]["events_per_s"],
                "raw_producer_events_per_s": p["raw"]["events_per_s"],
                "ratio": p["ratio"],
                "cpu_us_per_event": p["api"]["cpu_us_per_event"],
                "raw_producer_cpu_us_per_event": p["raw"]["cpu_us_per_event"],
            }
            for p in pairs
        ],
        "warm_up": warmed,
        "grid": grid,
        "emulator_peak_rss_mb": rss_large,
        "emulator_peak_rss_mb_10k_source": rss_small,
        "generator_rows_per_s": round(generator_rows_per_s, 1),
        "machine": {**machine(), "load_average_at_start": load_at_start, "load_average_at_end": load_average()},
        "settings": {
            "events": args.events,
            "pairs": args.pairs,
            "stream_events": args.stream_events,
            "rss_events": args.rss_events,
            "source_rows": args.rows,
            "batch_size": 500,
            "concurrency": 4,
            "stream_batch_size": STREAM_BATCH_SIZE,
            "stream_concurrency": STREAM_CONCURRENCY,
            "grid_events": args.grid_events,
            "grid_seconds": args.grid_seconds,
            "warmup_seconds": args.warmup_seconds,
            "stream_seconds": args.stream_seconds,
            "api_workers": int(os.environ.get("INGEST_API_WORKERS", "2")),
            "api_failed": sum(p["api"]["failed"] for p in pairs),
            "api_rejected": sum(p["api"]["rejected"] for p in pairs),
            "stream_failed": stream["failed"],
        },
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
