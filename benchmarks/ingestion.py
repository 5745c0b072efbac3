"""Ingestion benchmark: API throughput next to the raw producer, stream mode, emulator memory, generator speed.

Runs against the platform named by the usual variables (INGEST_API_URL, INGEST_API_KEY,
KAFKA_BOOTSTRAP_SERVERS, KINESIS_ENDPOINT_URL) and writes ``benchmarks/results/ingestion.json``:

- ``events_per_s``, ``p50_ms``, ``p99_ms``: the emulator posting through the API into Kafka (acks=all;
  one event = three records), batches of 500, sampled from a 1,000,000-row source;
- ``raw_producer_events_per_s``: confluent-kafka writing the same records straight to the same broker
  with the API's producer settings, in the same run; ``ratio`` = API / raw;
- ``stream_events_per_s``: stream mode through the API into Kinesis;
- ``emulator_peak_rss_mb``: the emulator's peak RSS on the 1,000,000-row source (next to the 10,000-row
  figure, which should be about the same: memory must not grow with the source);
- ``generator_rows_per_s``: rows per table per second while generating 1,000,000 rows per table.

Usage: ``python benchmarks/ingestion.py [--events 100000] [--stream-events 10000] [--work-dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import orjson
import psutil
from confluent_kafka import Producer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from include.pinterest.emulator import Emulator, EmulatorConfig  # noqa: E402
from include.pinterest.emulator.reader import PostReader, open_source  # noqa: E402
from include.pinterest.ingest.producer import producer_config  # noqa: E402
from include.pinterest.ingest.provision import ensure_streams, ensure_topics  # noqa: E402
from include.pinterest.settings import TABLES, Settings  # noqa: E402
from include.pinterest.source import write_source  # noqa: E402

RESULT = REPO / "benchmarks" / "results" / "ingestion.json"
REQUIRED = ("INGEST_API_URL", "INGEST_API_KEY", "KAFKA_BOOTSTRAP_SERVERS", "KINESIS_ENDPOINT_URL")


def generate(work: Path, rows: int) -> tuple[str, float]:
    """A fresh source with ``rows`` rows per table, and the rows per table per second it was generated at."""
    url = f"sqlite:///{work / f'source-{rows}.db'}"
    result = write_source(url, rows=rows, seed=42, replace=True)
    return url, rows / result.seconds


def api_run(env: dict[str, str], source_url: str, events: int, mode: str, batch_size: int, concurrency: int) -> dict:
    config = EmulatorConfig(source_url=source_url, target_url=env["INGEST_API_URL"], api_key=env["INGEST_API_KEY"],
                            mode=mode, events=events, batch_size=batch_size, concurrency=concurrency)
    return Emulator(config).run().as_dict()


def raw_producer_run(bootstrap: str, source_url: str, events: int, settings: Settings) -> float:
    """Events/s of confluent-kafka alone, with the records serialized before the clock starts."""
    engine = open_source(source_url)
    reader = PostReader(engine)
    batches = reader.sampled(500, seed=43)
    messages: list[tuple[str, bytes, bytes]] = []
    while len(messages) < events * 3:
        for post in next(batches):
            for table in TABLES:
                messages.append((settings.topic(table), str(post.ind).encode(), orjson.dumps(getattr(post, table))))
    batches.close()
    engine.dispose()
    messages = messages[: events * 3]
    producer = Producer(producer_config(bootstrap, delivery_timeout_ms=60_000))
    failures = 0

    def on_delivery(err, _msg) -> None:
        nonlocal failures
        failures += err is not None

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
    return events / elapsed


def emulator_peak_rss_mb(env: dict[str, str], source_url: str, events: int) -> float:
    """Peak RSS of the emulator CLI in its own process, sampled every 20 ms."""
    command = [sys.executable, "-m", "include.pinterest.emulator", "--source-url", source_url,
               "--target-url", env["INGEST_API_URL"], "--events", str(events), "--batch-size", "500"]
    process = psutil.Popen(command, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
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
    parser.add_argument("--rss-events", type=int, default=20_000, help="events per emulator memory run")
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per table of the large source")
    parser.add_argument("--work-dir", type=Path, help="where the sources go (default: a temporary folder)")
    args = parser.parse_args(argv)
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        parser.error(f"set {', '.join(missing)} (the platform's client variables, e.g. from `make up`)")
    env = {name: os.environ[name] for name in REQUIRED}
    settings = Settings()

    with tempfile.TemporaryDirectory(prefix="ingestion-bench-") as scratch:
        work = args.work_dir or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        print(f"generating {args.rows:,} rows per table ...", flush=True)
        large_url, generator_rows_per_s = generate(work, args.rows)
        print(f"  {generator_rows_per_s:,.0f} rows per table per second", flush=True)
        small_url, _ = generate(work, 10_000)
        ensure_topics(env["KAFKA_BOOTSTRAP_SERVERS"], settings)
        ensure_streams(boto3.client("kinesis", endpoint_url=env["KINESIS_ENDPOINT_URL"]), settings)

        print(f"{args.events:,} events through the API into Kafka ...", flush=True)
        api = api_run(env, large_url, args.events, "batch", batch_size=500, concurrency=4)
        print(f"  {api['events_per_s']:,.0f} events/s, p50 {api['latency_p50_ms']} ms", flush=True)
        print(f"{args.events:,} events through the raw producer ...", flush=True)
        raw = raw_producer_run(env["KAFKA_BOOTSTRAP_SERVERS"], large_url, args.events, settings)
        print(f"  {raw:,.0f} events/s", flush=True)
        print(f"{args.stream_events:,} events through the API into Kinesis ...", flush=True)
        # kinesis-mock is single-threaded JavaScript: smaller PutRecords and fewer in flight keep it responsive.
        stream = api_run(env, large_url, args.stream_events, "stream", batch_size=100, concurrency=2)
        print("emulator memory with 10k and 1M sources ...", flush=True)
        rss_small = emulator_peak_rss_mb(env, small_url, args.rss_events)
        rss_large = emulator_peak_rss_mb(env, large_url, args.rss_events)

    result = {
        "events_per_s": api["events_per_s"],
        "raw_producer_events_per_s": round(raw, 1),
        "ratio": round(api["events_per_s"] / raw, 3),
        "p50_ms": api["latency_p50_ms"],
        "p99_ms": api["latency_p99_ms"],
        "stream_events_per_s": stream["events_per_s"],
        "emulator_peak_rss_mb": rss_large,
        "emulator_peak_rss_mb_10k_source": rss_small,
        "generator_rows_per_s": round(generator_rows_per_s, 1),
        "machine": {"cores": psutil.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1)},
        "settings": {"events": args.events, "stream_events": args.stream_events, "rss_events": args.rss_events,
                     "source_rows": args.rows, "batch_size": 500, "concurrency": 4,
                     "stream_batch_size": 100, "stream_concurrency": 2,
                     "api_failed": api["failed"], "api_rejected": api["rejected"], "stream_failed": stream["failed"]},
    }
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
