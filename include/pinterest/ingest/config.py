"""Configuration of the ingestion API, read once from the environment and checked at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from include.pinterest.settings import Settings


class ConfigError(ValueError):
    """The API cannot start with this configuration (the message names the variable)."""


@dataclass(frozen=True)
class IngestSettings:
    """Limits and endpoints of the API; the pipeline-wide names come from ``Settings``."""

    pipeline: Settings = field(default_factory=Settings)
    host: str = "127.0.0.1"
    port: int = 8082
    api_key: str | None = field(default=None, repr=False)
    auth_enabled: bool = True
    max_body_bytes: int = 1024 * 1024
    max_records: int = 500
    delivery_timeout_ms: int = 30_000
    retry_after_s: int = 1

    def __post_init__(self) -> None:
        if self.auth_enabled and not self.api_key:
            raise ConfigError("INGEST_API_KEY is required (or set INGEST_API_AUTH=off explicitly to run without auth)")
        for name in ("port", "max_body_bytes", "max_records", "delivery_timeout_ms", "retry_after_s"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")

    @classmethod
    def from_env(cls) -> IngestSettings:
        auth = os.environ.get("INGEST_API_AUTH", "on").strip().lower()
        if auth not in ("on", "off"):
            raise ConfigError(f"INGEST_API_AUTH must be 'on' or 'off', got {auth!r}")
        return cls(
            host=os.environ.get("INGEST_API_HOST", "127.0.0.1"),
            port=_int_env("INGEST_API_PORT", 8082),
            api_key=os.environ.get("INGEST_API_KEY") or None,
            auth_enabled=auth == "on",
            delivery_timeout_ms=_int_env("INGEST_DELIVERY_TIMEOUT_MS", 30_000),
        )


def _int_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
