"""CLI: ``python -m include.pinterest.emulator --mode batch --events 10000 --rate 500``.

The target defaults to INGEST_API_URL and the key is read from INGEST_API_KEY (never from the command
line, so it stays out of shell history and process lists). Prints the summary for people on stderr and
as one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from include.pinterest.emulator import EmulatorConfig, run
from include.pinterest.source.generator import default_source_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.pinterest.emulator", description=__doc__)
    parser.add_argument(
        "--source-url", default=default_source_url(), help="SQLAlchemy URL of the source (default: %(default)s)"
    )
    parser.add_argument(
        "--target-url",
        default=os.environ.get("INGEST_API_URL", "http://127.0.0.1:8082"),
        help="base URL of the API, an API Gateway stage or a REST proxy (default: %(default)s)",
    )
    parser.add_argument("--mode", choices=["batch", "stream"], default="batch")
    parser.add_argument("--sampling", choices=["random", "sequential"], default="random")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--events", type=int, help="number of events (posts) to send")
    parser.add_argument("--duration", type=float, help="seconds to run")
    parser.add_argument("--rate", type=float, help="events per second (default: full speed)")
    parser.add_argument("--batch-size", type=int, default=500, help="events per request (max 500)")
    parser.add_argument("--concurrency", type=int, default=4, help="batches in flight")
    parser.add_argument("--max-retries", type=int, default=8)
    parser.add_argument("--breaker-after", type=int, default=3, help="requests in a row that gave up: stop")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per request")
    parser.add_argument(
        "--preload",
        action="store_true",
        help="read all --events posts before sending (a load test of the target; about 1 KB per event)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = EmulatorConfig(
            source_url=args.source_url,
            target_url=args.target_url,
            api_key=os.environ.get("INGEST_API_KEY"),
            mode=args.mode,
            sampling=args.sampling,
            seed=args.seed,
            events=args.events,
            duration_s=args.duration,
            rate=args.rate,
            batch_size=args.batch_size,
            concurrency=args.concurrency,
            max_retries=args.max_retries,
            breaker_after=args.breaker_after,
            timeout_s=args.timeout,
            preload=args.preload,
        )
    except ValueError as exc:
        parser.error(str(exc))
    summary = run(config)
    print(summary, file=sys.stderr)
    print(json.dumps(summary.as_dict()))
    return 0 if summary.failed == 0 and summary.not_sent == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
