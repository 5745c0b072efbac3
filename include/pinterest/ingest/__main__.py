"""Serve the ingestion API: ``python -m include.pinterest.ingest`` (INGEST_API_HOST, INGEST_API_PORT).

INGEST_API_WORKERS (default 2, one per core of the local machine) runs that many server processes on one
port, each with its own producer: one event loop holds the GIL and tops out at about one core.
"""

from __future__ import annotations

import gc
import logging
import os
import sys

import uvicorn
from fastapi import FastAPI

from include.pinterest.ingest.app import create_app
from include.pinterest.ingest.config import ConfigError, IngestSettings
from include.pinterest.ingest.logs import configure_json_logging

log = logging.getLogger("pinterest.ingest")


def app_from_environment() -> FastAPI:
    """The app of one server process (uvicorn calls this in each worker)."""
    configure_json_logging()
    app = create_app(IngestSettings.from_env())
    # What startup imported and built lives as long as the process: out of the collector's sight, so the
    # full collections that a busy server runs every few requests do not walk it each time.
    gc.freeze()
    return app


def main() -> int:
    configure_json_logging()
    try:
        settings = IngestSettings.from_env()
        workers = int(os.environ.get("INGEST_API_WORKERS", "2"))
    except (ConfigError, ValueError) as exc:
        log.error("cannot start: %s", exc)
        return 2
    # uvloop and httptools (installed with the local stack); the app writes its own access log lines.
    uvicorn.run(
        "include.pinterest.ingest.__main__:app_from_environment",
        factory=True,
        workers=workers,
        host=settings.host,
        port=settings.port,
        access_log=False,
        log_config=None,
        loop="uvloop",
        http="httptools",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
