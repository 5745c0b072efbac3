"""The Kinesis side of the API (spec §3), through boto3 against ``KINESIS_ENDPOINT_URL``.

boto3 is blocking, so every call runs in a worker thread. Errors come back as ``KinesisFailure`` carrying
the HTTP status the API should answer, so the routes stay free of botocore details.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, Protocol

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

_NOT_FOUND = {"ResourceNotFoundException"}
_CONFLICT = {"ResourceInUseException"}
_THROTTLED = {"LimitExceededException", "ProvisionedThroughputExceededException"}


class KinesisFailure(Exception):
    """A Kinesis call failed; ``status`` is the HTTP status to answer (503 means retry later)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class KinesisBackend(Protocol):
    """What the API needs from Kinesis; tests inject a fake through ``create_app``."""

    async def list_streams(self) -> dict[str, Any]: ...

    async def describe_stream(self, name: str) -> dict[str, Any]: ...

    async def create_stream(self, name: str, shard_count: int) -> dict[str, Any]: ...

    async def delete_stream(self, name: str) -> dict[str, Any]: ...

    async def put_record(self, name: str, data: bytes, partition_key: str) -> dict[str, Any]: ...

    async def put_records(self, name: str, records: Sequence[tuple[bytes, str]]) -> dict[str, Any]: ...

    async def health(self) -> dict[str, Any]: ...


class BotoKinesis:
    """Kinesis Data Streams (or kinesalite locally) via boto3; credentials come from the environment."""

    def __init__(self, region: str, endpoint_url: str | None) -> None:
        config = Config(
            retries={"max_attempts": 2, "mode": "standard"},
            connect_timeout=3,
            read_timeout=15,
            max_pool_connections=16,
        )
        self._client = boto3.client("kinesis", region_name=region, endpoint_url=endpoint_url, config=config)

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await asyncio.to_thread(getattr(self._client, operation), **kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            message = exc.response.get("Error", {}).get("Message", "") or code
            if code in _NOT_FOUND:
                raise KinesisFailure(404, message) from None
            if code in _CONFLICT:
                raise KinesisFailure(409, message) from None
            if code in _THROTTLED:
                raise KinesisFailure(503, f"Kinesis is throttling: {message}") from None
            raise KinesisFailure(502, f"Kinesis rejected {operation}: {code} {message}") from None
        except (BotoConnectionError, BotoCoreError) as exc:
            raise KinesisFailure(503, f"Kinesis is unreachable: {type(exc).__name__}") from None
        response.pop("ResponseMetadata", None)
        return response

    async def list_streams(self) -> dict[str, Any]:
        return await self._call("list_streams")

    async def describe_stream(self, name: str) -> dict[str, Any]:
        return await self._call("describe_stream", StreamName=name)

    async def create_stream(self, name: str, shard_count: int) -> dict[str, Any]:
        return await self._call("create_stream", StreamName=name, ShardCount=shard_count)

    async def delete_stream(self, name: str) -> dict[str, Any]:
        return await self._call("delete_stream", StreamName=name)

    async def put_record(self, name: str, data: bytes, partition_key: str) -> dict[str, Any]:
        return await self._call("put_record", StreamName=name, Data=data, PartitionKey=partition_key)

    async def put_records(self, name: str, records: Sequence[tuple[bytes, str]]) -> dict[str, Any]:
        entries = [{"Data": data, "PartitionKey": key} for data, key in records]
        return await self._call("put_records", StreamName=name, Records=entries)

    async def health(self) -> dict[str, Any]:
        try:
            await self._call("list_streams", Limit=1)
        except KinesisFailure as exc:
            return {"reachable": False, "detail": exc.message}
        return {"reachable": True}
