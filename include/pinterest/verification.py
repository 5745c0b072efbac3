"""Reconcile one run's posts across the stages: accepted by the API, in Kafka, in bronze, in silver, in the
stream tables. Plain functions over plain data, so the DAG task only gathers inputs and publishes the result.

Counts are by ``ind`` (one post = one ind), so re-sent posts count once, like every analysis (spec §1).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

BRONZE_KEY = re.compile(r"/partition=(?P<partition>\d+)/[^/]+\+(?P=partition)\+(?P<offset>\d{10})\.json$")


class ReconciliationError(AssertionError):
    """Posts the API accepted are missing from a later stage; the message names the stage and the count."""


@dataclass
class StageCount:
    stage: str
    inds: set[int] = field(default_factory=set)
    checked: bool = True
    note: str = ""


def key_of(row: dict[str, Any]) -> int:
    """The post key of a source row: ``index`` for pin rows, ``ind`` for geo and user rows."""
    return int(row["ind"] if "ind" in row else row["index"])


def inds_in_json_lines(lines: Iterable[str]) -> set[int]:
    return {key_of(json.loads(line)) for line in lines if line.strip()}


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
        for i, (start, key) in enumerate(objects):
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
            missing_at.append(f"{stage.stage}: {len(missing)} of {len(accepted)} accepted posts missing "
                              f"(e.g. ind {sorted(missing)[:5]})")
    if missing_at:
        raise ReconciliationError("; ".join(missing_at))
    return summary


def partition_ends(consumer, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    """High watermarks (the next offset to be written) of ``topic``'s partitions."""
    from confluent_kafka import TopicPartition

    return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}


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
            inds.add(key_of(json.loads(message.value())))
            if message.offset() + 1 >= ends[message.partition()]:
                pending.discard(message.partition())
    consumer.unassign()
    if pending:
        raise ReconciliationError(f"could not read {topic} partitions {sorted(pending)} to their end in {timeout_s:.0f}s")
    return inds
