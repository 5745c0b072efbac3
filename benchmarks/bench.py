"""`make bench`: run every benchmark; each writes its JSON under benchmarks/results/.

Benchmarks measure, they do not assert: a missed target is reported in the JSON and the closing notes.
Select some with `make bench BENCH=platform,batch`.
"""

from __future__ import annotations

import importlib
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BENCHMARKS = {
    "platform": "benchmarks.platform_start",
    "ingestion": "benchmarks.ingestion",
    "batch": "benchmarks.batch",
    "streaming": "benchmarks.streaming",
    "run": "benchmarks.pipeline_run",
}


def main() -> int:
    chosen = [b for b in os.environ.get("BENCH", ",".join(BENCHMARKS)).split(",") if b]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        print(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"\n=== benchmark: {name}")
        began = time.monotonic()
        try:
            importlib.import_module(BENCHMARKS[name]).main()
        except Exception as error:  # one broken benchmark must not hide the others' figures
            failed.append(name)
            print(f"benchmark {name} failed: {error!r}", file=sys.stderr)
        print(f"=== {name}: {time.monotonic() - began:.0f}s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
