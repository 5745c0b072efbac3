"""``python -m include.pinterest.streaming start|stop|status [--tables pin,geo,user]``."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from include.pinterest.settings import TABLES
from include.pinterest.streaming import driver


def _tables(text: str) -> list[str]:
    tables = [t.strip() for t in text.split(",") if t.strip()]
    unknown = sorted(set(tables) - set(TABLES))
    if unknown or not tables:
        raise argparse.ArgumentTypeError(f"tables must be among {','.join(TABLES)}, got {text!r}")
    return tables


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.pinterest.streaming", description=__doc__)
    parser.add_argument("command", choices=("start", "stop", "status"))
    parser.add_argument("--tables", type=_tables, default=list(TABLES), help="comma-separated, default all")
    parser.add_argument("--trigger-interval", default="1 second", help="start: micro-batch interval")
    parser.add_argument(
        "--initial-position",
        choices=("trim_horizon", "latest"),
        default="trim_horizon",
        help="start: where a stream without a checkpoint begins",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="stop: seconds to wait for a graceful stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    if args.command == "start":
        return driver.start(args.tables, args.trigger_interval, args.initial_position)
    if args.command == "stop":
        result = driver.stop(args.tables, args.timeout)
        print(json.dumps(result, indent=2))
        return 1 if "still running" in result.values() else 0
    print(json.dumps(driver.status(args.tables), indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
