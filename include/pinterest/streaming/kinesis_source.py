"""A Kinesis source for Spark Structured Streaming, written with PySpark's Python Data Source API.

Databricks ships a ``kinesis`` source; open-source Spark does not. This one gives local runs and tests the same
format name, the same columns and the same main options, so the streaming job is one code path:

    spark.dataSource.register(KinesisDataSource)
    spark.readStream.format("kinesis").option("streamName", "streaming-pinterest-pin")
         .option("endpointUrl", "http://127.0.0.1:4568").load()

Options (names are case-insensitive, as Spark lower-cases them): ``streamName`` (required), ``region``,
``initialPosition`` (``trim_horizon``, the default, or ``latest``), ``endpointUrl`` (a local Kinesis endpoint;
unset means AWS), ``maxRecordsPerBatch`` (default 10000), ``maxFetchesPerShard`` (GetRecords calls per shard per
batch, default 5) and ``metricsPath`` (a JSON file the source rewrites after each poll with each shard's
``MillisBehindLatest``: the lag that Spark's progress cannot carry for a Python source). Credentials come from
boto3's default chain (environment locally, the instance role on AWS), never from options.

Offsets are a JSON map ``shardId -> position``, where the position is the last sequence number read, or
``TRIM_HORIZON`` (nothing read yet, start at the oldest record), ``AT_TIMESTAMP:<epoch ms>`` (nothing read
yet, start at records that arrived from then on: how ``latest`` stays reproducible across restarts) or
``SHARD_END`` (a closed shard read to its end). Kinesis has no "latest offset" call, so the source uses the
simple stream reader: ``read(start)`` polls each shard a bounded number of times from ``start`` and returns
the rows together with the offset they end at; Spark caches those rows for the batch, and after a restart
``readBetweenOffsets`` re-reads exactly the records of an uncommitted batch (records are immutable, so the
replay is identical). After a reshard a child shard is read only once its parents reached ``SHARD_END``,
which keeps each partition key's records in order.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyspark.sql.datasource import DataSource, SimpleDataSourceStreamReader

from include.pinterest.files import write_json_atomically

SCHEMA = (
    "partitionKey string, data binary, stream string, shardId string, sequenceNumber string, "
    "approximateArrivalTimestamp timestamp"
)

TRIM_HORIZON = "TRIM_HORIZON"
SHARD_END = "SHARD_END"
AT_TIMESTAMP = "AT_TIMESTAMP:"

# Largest Limit GetRecords accepts.
GET_RECORDS_LIMIT = 10_000
# Shards polled at once by one reader (each poll mostly waits on the network).
POLL_THREADS = 8
# How long a shard list is trusted when no shard closed meanwhile (a reshard closes its parents).
SHARD_LIST_TTL_S = 60.0

Offset = dict[str, str]
Row = tuple[str, bytes, str, str, str, datetime]


@dataclass(frozen=True)
class SourceOptions:
    """The reader's options, parsed once from Spark's (lower-cased) option map."""

    stream_name: str
    region: str
    endpoint_url: str | None
    initial_position: str
    max_records_per_batch: int
    max_fetches_per_shard: int
    metrics_path: str | None

    @classmethod
    def parse(cls, options: dict[str, str]) -> SourceOptions:
        lowered = {k.lower(): v for k, v in options.items()}
        stream_name = lowered.get("streamname")
        if not stream_name:
            raise ValueError("the kinesis source needs the option streamName")
        position = lowered.get("initialposition", "trim_horizon").lower()
        if position not in ("trim_horizon", "latest"):
            raise ValueError(f"initialPosition must be trim_horizon or latest, got {position!r}")
        max_records = int(lowered.get("maxrecordsperbatch", "10000"))
        max_fetches = int(lowered.get("maxfetchespershard", "5"))
        if max_records < 1 or max_fetches < 1:
            raise ValueError("maxRecordsPerBatch and maxFetchesPerShard must be positive")
        return cls(
            stream_name=stream_name,
            region=lowered.get("region") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
            endpoint_url=lowered.get("endpointurl") or None,
            initial_position=position,
            max_records_per_batch=max_records,
            max_fetches_per_shard=max_fetches,
            metrics_path=lowered.get("metricspath") or None,
        )


def kinesis_client(region: str, endpoint_url: str | None) -> Any:
    """A boto3 Kinesis client with timeouts and retries (throttling included) instead of hanging or failing."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=5,
        read_timeout=30,
        retries={"mode": "standard", "max_attempts": 8},
    )
    return boto3.client("kinesis", region_name=region, endpoint_url=endpoint_url, config=config)


def list_shards(client: Any, stream_name: str) -> list[dict]:
    """Every shard of the stream still within retention, open and closed, following pagination."""
    shards: list[dict] = []
    response = client.list_shards(StreamName=stream_name)
    shards.extend(response["Shards"])
    while response.get("NextToken"):
        response = client.list_shards(NextToken=response["NextToken"])
        shards.extend(response["Shards"])
    return shards


def _parents(shard: dict) -> list[str]:
    return [p for p in (shard.get("ParentShardId"), shard.get("AdjacentParentShardId")) if p]


def _is_closed(shard: dict) -> bool:
    return "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})


def _is_sequence_number(position: str) -> bool:
    return position.isdigit()


def _iterator_request(position: str) -> dict[str, Any]:
    """GetShardIterator arguments that start right after ``position``."""
    if position == TRIM_HORIZON:
        return {"ShardIteratorType": "TRIM_HORIZON"}
    if position.startswith(AT_TIMESTAMP):
        millis = int(position[len(AT_TIMESTAMP) :])
        return {"ShardIteratorType": "AT_TIMESTAMP", "Timestamp": datetime.fromtimestamp(millis / 1000, UTC)}
    return {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "StartingSequenceNumber": position}


class KinesisStreamReader(SimpleDataSourceStreamReader):
    """Reads one stream; lives in Spark's planner process, so it may keep a client and shard iterators."""

    def __init__(self, options: SourceOptions) -> None:
        self.options = options
        self._client: Any = None
        self._pool: ThreadPoolExecutor | None = None
        # shard -> (position the iterator starts after, iterator): saves a GetShardIterator per shard per poll.
        self._iterators: dict[str, tuple[str, str]] = {}
        # The shard list changes only at a reshard: listed again when a shard closes, or after SHARD_LIST_TTL_S.
        self._shard_list: dict[str, dict] = {}
        self._shards_listed_at: float | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=POLL_THREADS, thread_name_prefix="kinesis-poll")
        return self._pool

    def _shards(self) -> dict[str, dict]:
        listed_at = self._shards_listed_at
        if listed_at is None or time.monotonic() - listed_at > SHARD_LIST_TTL_S:
            self._shard_list = {s["ShardId"]: s for s in list_shards(self.client, self.options.stream_name)}
            self._shards_listed_at = time.monotonic()
        return self._shard_list

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = kinesis_client(self.options.region, self.options.endpoint_url)
        return self._client

    def initialOffset(self) -> Offset:
        """Where a query without a checkpoint starts: every shard at the oldest record, or from now on."""
        shards = list_shards(self.client, self.options.stream_name)
        if self.options.initial_position == "trim_horizon":
            return {s["ShardId"]: TRIM_HORIZON for s in shards}
        now = f"{AT_TIMESTAMP}{int(time.time() * 1000)}"
        return {s["ShardId"]: SHARD_END if _is_closed(s) else now for s in shards}

    def read(self, start: Offset) -> tuple[Iterator[Row], Offset]:
        """New records after ``start`` (at most ``maxRecordsPerBatch``) and the offset they end at.

        The shards that may be read are polled at the same time (one thread each), so a poll takes one GetRecords
        round trip, not one per shard; after a reshard, a child shard is polled once its parents reached the end.
        """
        shards = self._shards()
        offset = dict(start)
        for shard_id in shards:
            # A shard not in the offset appeared after the query started (a reshard's child): read it whole.
            offset.setdefault(shard_id, TRIM_HORIZON)
        rows: list[Row] = []
        behind: dict[str, int] = {}
        visited: set[str] = set()
        budget = self.options.max_records_per_batch
        while budget > 0:
            ready = [
                shard_id
                for shard_id in sorted(shards)
                if shard_id not in visited
                and offset[shard_id] != SHARD_END
                and all(p not in shards or offset[p] == SHARD_END for p in _parents(shards[shard_id]))
            ]
            if not ready:
                break
            visited.update(ready)
            share = max(1, budget // len(ready))
            polls = list(self.pool.map(self._poll, ready, [offset[r] for r in ready], [share] * len(ready)))
            for shard_id, (fetched, position, millis_behind, iterator) in zip(ready, polls, strict=True):
                rows.extend(fetched)
                offset[shard_id], behind[shard_id] = position, millis_behind
                budget -= len(fetched)
                if iterator is None:
                    self._iterators.pop(shard_id, None)
                    self._shards_listed_at = None  # a closed shard: its children are new shards
                else:
                    self._iterators[shard_id] = (position, iterator)
        self._write_metrics(behind, records_read=len(rows), budget_left=budget > 0)
        return iter(rows), offset

    def readBetweenOffsets(self, start: Offset, end: Offset) -> Iterator[Row]:
        """The records of a planned batch again, exactly: from each shard's start position up to its end one."""
        rows: list[Row] = []
        for shard_id, last in sorted(end.items()):
            first = start.get(shard_id, TRIM_HORIZON)
            if first == last or not (_is_sequence_number(last) or last == SHARD_END):
                continue
            rows.extend(self._read_until(shard_id, first, last))
        return iter(rows)

    def _poll(self, shard_id: str, position: str, budget: int) -> tuple[list[Row], str, int, str | None]:
        """Up to ``maxFetchesPerShard`` GetRecords calls from ``position``; stops once at the shard's tip.

        Returns the rows, the new position, MillisBehindLatest and the next iterator (None at a closed shard's end).
        """
        rows: list[Row] = []
        iterator = self._iterator(shard_id, position)
        millis_behind = 0
        for _ in range(self.options.max_fetches_per_shard):
            response = self._get_records(shard_id, position, iterator, min(budget - len(rows), GET_RECORDS_LIMIT))
            records = response["Records"]
            rows.extend(self._row(shard_id, r) for r in records)
            if records:
                position = records[-1]["SequenceNumber"]
            millis_behind = int(response.get("MillisBehindLatest", 0))
            iterator = response.get("NextShardIterator")
            if iterator is None:
                position = SHARD_END
                break
            # At the tip (MillisBehindLatest 0) another call would return only what arrived since: leave it to
            # the next poll, so a shard costs one GetRecords a batch while the job keeps up.
            if millis_behind == 0 or len(rows) >= budget:
                break
        return rows, position, millis_behind, iterator

    def _read_until(self, shard_id: str, first: str, last: str) -> list[Row]:
        """Records after ``first`` through sequence number ``last`` (or to the end of a closed shard)."""
        rows: list[Row] = []
        iterator = self._new_iterator(shard_id, first)
        stop_at = None if last == SHARD_END else int(last)
        while iterator is not None:
            response = self.client.get_records(ShardIterator=iterator, Limit=GET_RECORDS_LIMIT)
            for record in response["Records"]:
                if stop_at is not None and int(record["SequenceNumber"]) > stop_at:
                    return rows
                rows.append(self._row(shard_id, record))
                if stop_at is not None and int(record["SequenceNumber"]) == stop_at:
                    return rows
            iterator = response.get("NextShardIterator")
            if iterator is not None and not response["Records"] and int(response.get("MillisBehindLatest", 0)) == 0:
                raise RuntimeError(
                    f"shard {shard_id} of {self.options.stream_name} has no records up to {last}: "
                    "records of a planned batch are gone (past retention?)"
                )
        return rows

    def _iterator(self, shard_id: str, position: str) -> str:
        cached = self._iterators.get(shard_id)
        if cached is not None and cached[0] == position:
            return cached[1]
        return self._new_iterator(shard_id, position)

    def _new_iterator(self, shard_id: str, position: str) -> str:
        response = self.client.get_shard_iterator(
            StreamName=self.options.stream_name, ShardId=shard_id, **_iterator_request(position)
        )
        return response["ShardIterator"]

    def _get_records(self, shard_id: str, position: str, iterator: str, limit: int) -> dict:
        """GetRecords, renewing an iterator that expired (they live 5 minutes) from the known position."""
        try:
            return self.client.get_records(ShardIterator=iterator, Limit=limit)
        except self.client.exceptions.ExpiredIteratorException:
            return self.client.get_records(ShardIterator=self._new_iterator(shard_id, position), Limit=limit)

    def _row(self, shard_id: str, record: dict) -> Row:
        return (
            record["PartitionKey"],
            bytes(record["Data"]),
            self.options.stream_name,
            shard_id,
            record["SequenceNumber"],
            record["ApproximateArrivalTimestamp"].astimezone(UTC),
        )

    def _write_metrics(self, behind: dict[str, int], records_read: int, budget_left: bool) -> None:
        """Replace the metrics file atomically, so a reader never sees half of it.

        ``caught_up`` means this poll found nothing new at any shard's tip. Spark polls only after the previous
        batch committed, so every record that arrived before the poll is then in the sink.
        """
        if not self.options.metrics_path:
            return
        metrics = {
            "stream": self.options.stream_name,
            "updated_at": datetime.now(UTC).isoformat(),
            "millis_behind_latest": behind,
            "max_millis_behind_latest": max(behind.values(), default=0),
            "records_read": records_read,
            "caught_up": budget_left and records_read == 0 and not any(behind.values()),
        }
        write_json_atomically(Path(self.options.metrics_path), metrics)


class KinesisDataSource(DataSource):
    """``format("kinesis")``: the columns of Databricks' Kinesis source, read through boto3."""

    @classmethod
    def name(cls) -> str:
        return "kinesis"

    def schema(self) -> str:
        return SCHEMA

    def simpleStreamReader(self, schema: Any) -> KinesisStreamReader:
        return KinesisStreamReader(SourceOptions.parse(dict(self.options)))
