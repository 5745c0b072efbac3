"""Serve the ingestion API: ``python -m include.pinterest.ingest`` (INGEST_API_HOST, INGEST_API_PORT)."""

from __future__ import annotations

import logging
import sys

import uvicorn

from include.pinterest.ingest.app import create_app
from include.pinterest.ingest.config import ConfigError, IngestSettings
from include.pinterest.ingest.logs import configure_json_logging


def main() -> int:
    configure_json_logging()
    try:
        settings = IngestSettings.from_env()
    except ConfigError as exc:
        logging.getLogger("pinterest.ingest").error("cannot start: %s", exc)
        return 2
    app = create_app(settings)
    # uvloop and httptools when installed; the app writes its own access log lines.
    uvicorn.run(
        app, host=settings.host, port=settings.port, access_log=False, log_config=None, loop="auto", http="auto"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
