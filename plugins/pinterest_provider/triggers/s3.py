"""Wait, in the triggerer, until an object under a prefix was written at or after a moment.

Why not the amazon provider's S3KeyTrigger: with a ``check_fn`` (amazon 9.34) it lists one folder level below
the wildcard (``Delimiter="/"``), so objects under ``partition=*/`` are never seen, and it HEADs every object
it lists on every poke. This lists the whole prefix, page by page, and needs no HEAD: LastModified is in
the listing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


def newest_since(objects: list[dict], since: datetime, suffix: str) -> str | None:
    """The key of an object of the listing written at or after ``since`` whose key ends with ``suffix``."""
    return next((o["Key"] for o in objects if o["Key"].endswith(suffix) and o["LastModified"] >= since), None)


class S3NewObjectsTrigger(BaseTrigger):
    """Yields ``success`` with the key once an object under ``prefix`` has LastModified >= ``since``.

    A listing error is logged and retried at the next poll (the store may be restarting); the sensor's
    ``timeout`` bounds the wait.
    """

    def __init__(
        self, bucket_name: str, prefix: str, since: str, suffix: str, aws_conn_id: str | None, poll_interval: float
    ) -> None:
        super().__init__()
        self.bucket_name = bucket_name
        self.prefix = prefix
        self.since = since
        self.suffix = suffix
        self.aws_conn_id = aws_conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "bucket_name": self.bucket_name,
                "prefix": self.prefix,
                "since": self.since,
                "suffix": self.suffix,
                "aws_conn_id": self.aws_conn_id,
                "poll_interval": self.poll_interval,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        since = datetime.fromisoformat(self.since)
        hook = S3Hook(aws_conn_id=self.aws_conn_id)
        while True:
            try:
                async with await hook.get_async_conn() as client:
                    pages = client.get_paginator("list_objects_v2").paginate(
                        Bucket=self.bucket_name, Prefix=self.prefix
                    )
                    async for page in pages:
                        if key := newest_since(page.get("Contents", []), since, self.suffix):
                            yield TriggerEvent({"status": "success", "key": key})
                            return
            except Exception as error:  # a store restarting is not a failed landing: poll again
                self.log.warning("listing s3://%s/%s failed: %s", self.bucket_name, self.prefix, error)
            await asyncio.sleep(self.poll_interval)
