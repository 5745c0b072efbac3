"""CLI: ``python -m include.pinterest.source [--url URL] [--rows N] [--seed S] [--replace]`` (defaults: the local
platform instance's source, as the DAG generates it)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict

from sqlalchemy.engine import make_url

from include.pinterest.source.generator import LOCAL_ROWS, LOCAL_SEED, SourceExists, default_source_url, write_source


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.pinterest.source", description=__doc__)
    parser.add_argument("--url", default=default_source_url(), help="SQLAlchemy URL (default: %(default)s)")
    parser.add_argument("--rows", type=int, default=LOCAL_ROWS, help="rows per table (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=LOCAL_SEED, help="random seed (default: %(default)s)")
    parser.add_argument("--replace", action="store_true", help="drop and recreate existing tables")
    args = parser.parse_args(argv)
    if args.rows < 0:
        parser.error("--rows must be >= 0")
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        result = write_source(args.url, args.rows, args.seed, replace=args.replace)
    except SourceExists as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    summary = asdict(result)
    summary["url"] = _without_password(args.url)
    print(json.dumps(summary))
    return 0


def _without_password(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


if __name__ == "__main__":
    sys.exit(main())
