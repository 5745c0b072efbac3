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
LAKE_READERS = ("spark", "delta-rs")


def check_table(table: str) -> None:
    if table not in TABLES:
        raise ValueError(f"table must be one of {', '.join(TABLES)}, got {table!r}")


def topic_name(topic_prefix: str, table: str) -> str:
    """Kafka topic of one source table: ``<prefix>.pin``."""
    check_table(table)
    return f"{topic_prefix}.{table}"


def stream_table_name(topic_prefix: str, table: str) -> str:
    """Delta table the streaming job writes for one Kinesis stream: ``<prefix>_pin_table``."""
    check_table(table)
    return f"{topic_prefix}_{table}_table"


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
    kinesis_endpoint_url: str | None = field(default_factory=lambda: os.environ.get("KINESIS_ENDPOINT_URL") or None)
    lake_root: str = field(default_factory=lambda: os.environ.get("PINTEREST_LAKE_ROOT", ""))

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise ValueError(f"PINTEREST_PROFILE must be one of {', '.join(PROFILES)}, got {self.profile!r}")

    def topic(self, table: str) -> str:
        return topic_name(self.topic_prefix, table)

    def stream(self, table: str) -> str:
        """Kinesis stream of one source table: ``streaming-<prefix>-pin``."""
        check_table(table)
        return f"streaming-{self.topic_prefix}-{table}"

    def stream_table(self, table: str) -> str:
        return stream_table_name(self.topic_prefix, table)

    @property
    def dlq_topic(self) -> str:
        """Where the ingest API writes invalid records with their reason."""
        return f"{self.topic_prefix}.dlq"

    @property
    def s3_sink_connector(self) -> str:
        """The S3 sink connector (Kafka Connect locally, MSK Connect on AWS); IAM ARNs use the same name."""
        return f"{self.topic_prefix}-s3-sink"

    @property
    def batch_job(self) -> str:
        """The Databricks job of the batch notebooks (clean -> analyse -> report)."""
        return f"{self.topic_prefix}-batch"

    @property
    def stream_job(self) -> str:
        """The Databricks job of the streaming notebook."""
        return f"{self.topic_prefix}-stream-to-delta"

    @property
    def topics(self) -> list[str]:
        return [self.topic(t) for t in TABLES]

    @property
    def streams(self) -> list[str]:
        return [self.stream(t) for t in TABLES]

    def lake_root_for(self, reader: str) -> str:
        """Root URI of the lake for one kind of reader (the layout below it is ``include.pinterest.lake``).

        ``spark``: ``s3a://<bucket>`` unless PINTEREST_LAKE_ROOT overrides it; ``delta-rs``: ``s3://<bucket>``.
        """
        if reader == "spark":
            return self.lake_root.rstrip("/") or f"s3a://{self.bucket}"
        if reader == "delta-rs":
            return f"s3://{self.bucket}"
        raise ValueError(f"lake reader must be one of {', '.join(LAKE_READERS)}, got {reader!r}")
