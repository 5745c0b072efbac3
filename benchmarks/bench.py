"""`make bench`: run every benchmark; each writes its JSON under benchmarks/results/.

Benchmarks measure, they do not assert: a missed target is reported in the JSON and the closing notes.
Select some with `make bench BENCH=platform,batch`; the fault matrix runs only when named (`BENCH=faults`).
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from contextlib import contextmanager

# Benchmarks that run against platform services get them from the `bench` instance (own ports and state).
NEEDS_PLATFORM = {"ingestion": ["kafka", "kinesis", "ingest-api"]}
BENCHMARKS = {
    "platform": "benchmarks.platform_start",
    "ingestion": "benchmarks.ingestion",
    "batch": "benchmarks.batch",
    "streaming": "benchmarks.streaming",
    "run": "benchmarks.pipeline_run",
    "faults": "benchmarks.faults",
}
ON_REQUEST = {"faults"}  # about 40 minutes: only when named (`make bench BENCH=faults`)


@contextmanager
def bench_platform(services: list[str]):
    """Start ``services`` on the bench instance and export its client variables for the benchmark."""
    if not services:
        yield
        return
    from local_platform import processes
    from local_platform.environment import client_env
    from local_platform.instance import instance_for

    instance = instance_for("bench")
    saved = dict(os.environ)
    processes.up(instance, services)
    os.environ.update(client_env(instance))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)
        processes.down(instance, services)


def main() -> int:
    default = ",".join(name for name in BENCHMARKS if name not in ON_REQUEST)
    chosen = [b for b in os.environ.get("BENCH", default).split(",") if b]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== benchmark: {name}")
        began = time.monotonic()
        try:
            with bench_platform(NEEDS_PLATFORM.get(name, [])):
                importlib.import_module(BENCHMARKS[name]).main([])
        except Exception as error:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"benchmark {name} failed: {error!r}", file=sys.stderr)
        print(f"=== {name}: {time.monotonic() - began:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
