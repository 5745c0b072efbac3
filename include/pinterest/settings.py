"""One place for the pipeline's configuration.

Every value comes from the environment with a default that runs on the local platform, so the same code
serves the local profile and AWS (where MWAA and Databricks set the variables). Nothing here reads a
secret: credentials come from connections (Airflow) or from the instance role (AWS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

TABLES = ("pin", "geo", "user")
PROFILES = ("local", "aws")


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, default).strip()
    if not value:
        raise ValueError(f"configuration {name} must not be empty")
    return value


@dataclass(frozen=True)
class Settings:
    """Names and endpoints shared by the DAG, the ingestion API, the emulator and the Spark jobs."""

    profile: str = field(default_factory=lambda: _env("PINTEREST_PROFILE", "local"))
    topic_prefix: str = field(default_factory=lambda: _env("PINTEREST_TOPIC_PREFIX", "pinterest"))
    bucket: str = field(default_factory=lambda: _env("PINTEREST_BUCKET", "pinterest-data-lake"))
    kafka_bootstrap: str = field(default_factory=lambda: _env("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"))
    aws_region: str = field(default_factory=lambda: _env("AWS_DEFAULT_REGION", "us-east-1"))
    # Empty means "the real AWS endpoint"; the local platform points these at its own services.
    s3_endpoint_url: str | None = field(default_factory=lambda: os.environ.get("S3_ENDPOINT_URL") or None)
    kinesis_endpoint_url: str | None = field(
        default_factory=lambda: os.environ.get("KINESIS_ENDPOINT_URL") or None
    )
    lake_root: str = field(default_factory=lambda: os.environ.get("PINTEREST_LAKE_ROOT", ""))

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"PINTEREST_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")

    def topic(self, table: str) -> str:
        """Kafka topic of one source table: ``<prefix>.pin``."""
        _check_table(table)
        return f"{self.topic_prefix}.{table}"

    def stream(self, table: str) -> str:
        """Kinesis stream of one source table: ``streaming-<prefix>-pin``."""
        _check_table(table)
        return f"streaming-{self.topic_prefix}-{table}"

    def stream_table(self, table: str) -> str:
        """Delta table the streaming job writes for one Kinesis stream: ``<prefix>_pin_table``."""
        _check_table(table)
        return f"{self.topic_prefix}_{table}_table"

    @property
    def topics(self) -> list[str]:
        return [self.topic(t) for t in TABLES]

    @property
    def streams(self) -> list[str]:
        return [self.stream(t) for t in TABLES]

    @property
    def lake(self) -> str:
        """Root URI of the lake: ``s3a://<bucket>`` unless PINTEREST_LAKE_ROOT overrides it."""
        return self.lake_root.rstrip("/") or f"s3a://{self.bucket}"

    def bronze_prefix(self, table: str) -> str:
        """Object-key prefix under which the S3 sink lands one topic (spec §3)."""
        return f"topics/{self.topic(table)}/"


def _check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, got {table!r}")
