"""Ingestion API: the local stand-in for API Gateway + Kafka REST Proxy (spec §3)."""

from include.pinterest.ingest.app import create_app
from include.pinterest.ingest.config import ConfigError, IngestSettings

__all__ = ["ConfigError", "IngestSettings", "create_app"]
