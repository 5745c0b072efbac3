"""Reconcile one run's posts across the stages: accepted by the API, in Kafka, in bronze, in silver, in the
stream tables. Plain functions over plain data, so the DAG task only gathers inputs and publishes the result.

Counts are by ``ind`` (one post = one ind), so re-sent posts count once, like every analysis (spec §1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from include.pinterest.lake import bronze_prefix
from include.pinterest.settings import TABLES, Settings
from include.pinterest.tables import post_key

BRONZE_KEY = re.compile(r"/partition=(?P<partition>\d+)/[^/]+\+(?P=partition)\+(?P<offset>\d{10})\.json$")


class ReconciliationError(AssertionError):
    """Posts the API accepted are missing from a later stage; the message names the stage and the count."""


@dataclass
class StageCount:
    stage: str
    inds: set[int] = field(default_factory=set)
    checked: bool = True
    note: str = ""


def inds_in_json_lines(lines: Iterable[str]) -> set[int]:
    return {post_key(json.loads(line)) for line in lines if line.strip()}


def bronze_keys_from(keys: Iterable[str], start_offsets: dict[int, int]) -> list[str]:
    """Bronze objects that may hold records at or after ``start_offsets`` (partition -> first new offset).

    An object starting at offset s holds [s, start of the next object); keep it when that range reaches
    the first new offset. Folder placeholders and foreign keys are ignored.
    """
    by_partition: dict[int, list[tuple[int, str]]] = {}
    for key in keys:
        match = BRONZE_KEY.search(key)
        if match:
            by_partition.setdefault(int(match["partition"]), []).append((int(match["offset"]), key))
    selected = []
    for partition, objects in by_partition.items():
        objects.sort()
        first_new = start_offsets.get(partition, 0)
        for i, (_start, key) in enumerate(objects):
            next_start = objects[i + 1][0] if i + 1 < len(objects) else None
            if next_start is None or next_start > first_new:
                selected.append(key)
    return sorted(selected)


def reconcile(accepted: set[int], stages: list[StageCount]) -> dict[str, Any]:
    """Summary of which accepted posts reached each stage; raises when a checked stage misses some."""
    summary: dict[str, Any] = {"accepted_posts": len(accepted), "stages": {}}
    missing_at = []
    for stage in stages:
        missing = accepted - stage.inds if stage.checked else set()
        summary["stages"][stage.stage] = {
            "posts": len(stage.inds) if stage.checked else None,
            "missing_accepted_posts": len(missing),
            **({"note": stage.note} if stage.note else {}),
        }
        if missing:
            missing_at.append(
                f"{stage.stage}: {len(missing)} of {len(accepted)} accepted posts missing "
                f"(e.g. ind {sorted(missing)[:5]})"
            )
    if missing_at:
        raise ReconciliationError("; ".join(missing_at))
    return summary


def partition_ends(consumer, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    """High watermarks (the next offset to be written) of ``topic``'s partitions."""
    from confluent_kafka import TopicPartition

    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}


def _post_key_of(value: bytes | None) -> int | None:
    """A record's post key, or None for a record that is not a post (a producer other than the API wrote it;
    the S3 sink sends such records to its dead-letter topic): it cannot be an accepted post, so it is skipped."""
    try:
        row = json.loads(value or b"")
        return post_key(row) if isinstance(row, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def kafka_inds(consumer, topic: str, start_offsets: dict[int, int], timeout_s: float = 120.0) -> set[int]:
    """Post keys of the records written to ``topic`` from ``start_offsets`` up to the current end.

    The consumer is assigned partitions explicitly (no group rebalance, no commits): reading for a
    reconciliation must not move any consumer group's position.
    """
    import time

    from confluent_kafka import TopicPartition

    ends = partition_ends(consumer, topic, start_offsets)
    pending = {p for p, end in ends.items() if end > start_offsets[p]}
    consumer.assign([TopicPartition(topic, p, start_offsets[p]) for p in pending])
    inds: set[int] = set()
    deadline = time.monotonic() + timeout_s
    while pending and time.monotonic() < deadline:
        for message in consumer.consume(1000, timeout=1.0):
            if message.error():
                raise ReconciliationError(f"reading {topic}: {message.error()}")
            if (key := _post_key_of(message.value())) is not None:
                inds.add(key)
            if message.offset() + 1 >= ends[message.partition()]:
                pending.discard(message.partition())
    consumer.unassign()
    if pending:
        raise ReconciliationError(
            f"could not read {topic} partitions {sorted(pending)} to their end in {timeout_s:.0f}s"
        )
    return inds


def kafka_inds_since(consumer, settings: Settings, start_offsets: dict[str, dict[int, int]]) -> dict[str, set[int]]:
    """Post keys written to each table's topic since the offsets captured before posting."""
    consumer.unsubscribe()
    return {
        table: kafka_inds(consumer, settings.topic(table), start_offsets.get(settings.topic(table), {}))
        for table in TABLES
    }


def bronze_inds_since(
    list_keys: Callable[[str], list[str]],
    read_key: Callable[[str], str],
    settings: Settings,
    start_offsets: dict[str, dict[int, int]],
) -> dict[str, set[int]]:
    """Post keys in the bronze objects that can hold the records written since ``start_offsets``.

    ``list_keys(prefix)`` and ``read_key(key)`` read the lake bucket (an ``S3Hook``'s, in the DAG).
    """
    found = {}
    for table in TABLES:
        keys = bronze_keys_from(
            list_keys(bronze_prefix(settings.topic_prefix, table)), start_offsets.get(settings.topic(table), {})
        )
        found[table] = set().union(*(inds_in_json_lines(read_key(key).splitlines()) for key in keys))
    return found


API_SUMMARY_KEYS = (
    "sent",
    "accepted",
    "rejected",
    "failed",
    "retried",
    "events_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
)


def run_summary(
    *,
    accepted: set[int],
    stream_accepted: set[int],
    kafka: dict[str, set[int]],
    bronze: dict[str, set[int]],
    silver: dict[str, set[int]],
    stream_tables: dict[str, set[int]],
    api: dict[str, dict[str, Any]],
    stream_lag_ms: dict[str, int | None] | None = None,
) -> dict[str, Any]:
    """The run's reconciliation: batch posts through Kafka, bronze and silver; stream posts in the stream
    tables with how far each stream's reader was behind its tip (``stream_lag_ms``, None where unknown); the
    emulator's figures per mode. Raises :class:`ReconciliationError` naming what is missing."""
    stages = (
        [StageCount(f"kafka.{t}", inds) for t, inds in kafka.items()]
        + [StageCount(f"bronze.{t}", inds) for t, inds in bronze.items()]
        + [StageCount(f"silver.{t}", inds) for t, inds in silver.items()]
    )
    summary = reconcile(accepted, stages)
    summary["stream"] = reconcile(
        stream_accepted, [StageCount(f"stream.{t}", inds) for t, inds in stream_tables.items()]
    )
    summary["stream"]["millis_behind_latest"] = dict(stream_lag_ms or {})
    summary["api"] = {mode: {k: posted.get(k) for k in API_SUMMARY_KEYS} for mode, posted in api.items() if posted}
    return summary


def delta_inds(table_uri: str, storage_options: dict[str, str] | None) -> set[int]:
    """The ``ind``s of a Delta table, read as Delta (never as plain parquet: removed files would count)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(table_uri, storage_options=storage_options)
    except TableNotFoundError:
        return set()
    return set(table.to_pyarrow_table(columns=["ind"]).column("ind").to_pylist())


def delta_storage_options(settings: Settings) -> dict[str, str] | None:
    """delta-rs options for the local object store; None on AWS (the execution role's credentials)."""
    if not settings.s3_endpoint_url:
        return None
    return {
        "AWS_ENDPOINT_URL": settings.s3_endpoint_url,
        "AWS_ALLOW_HTTP": "true",
        "AWS_REGION": settings.aws_region,
        "AWS_S3_ALLOW_UNSAFE_RENAME": "true",
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }
