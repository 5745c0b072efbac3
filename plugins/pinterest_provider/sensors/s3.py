"""Sensor: an object under a prefix was written since the DAG run began (deferrable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowException

from pinterest_provider.triggers.s3 import S3NewObjectsTrigger, newest_since

CLOCK_SKEW = timedelta(seconds=2)  # the store's clock and the scheduler's may differ a little


class S3NewObjectsSensor(BaseSensorOperator):
    """Wait until an object under ``prefix`` ending with ``suffix`` was written at or after the run's start.

    Pages through the whole prefix (any depth, past 1,000 keys) with the official S3Hook; ``deferrable=True``
    hands the wait to the triggerer (``S3NewObjectsTrigger``).
    """

    template_fields: Sequence[str] = ("bucket_name", "prefix")

    def __init__(
        self,
        *,
        bucket_name: str,
        prefix: str,
        suffix: str = "",
        aws_conn_id: str | None = "aws_default",
        deferrable: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.bucket_name = bucket_name
        self.prefix = prefix
        self.suffix = suffix
        self.aws_conn_id = aws_conn_id
        self.deferrable = deferrable

    def _since(self, context) -> datetime:
        return context["dag_run"].start_date - CLOCK_SKEW

    def poke(self, context) -> bool:
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        pages = (
            S3Hook(aws_conn_id=self.aws_conn_id)
            .get_conn()
            .get_paginator("list_objects_v2")
            .paginate(Bucket=self.bucket_name, Prefix=self.prefix)
        )
        since = self._since(context)
        for page in pages:
            if key := newest_since(page.get("Contents", []), since, self.suffix):
                self.log.info("new object s3://%s/%s", self.bucket_name, key)
                return True
        self.log.info("no object under s3://%s/%s written since %s yet", self.bucket_name, self.prefix, since)
        return False

    def execute(self, context) -> None:
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return None
        self.defer(
            trigger=S3NewObjectsTrigger(
                bucket_name=self.bucket_name,
                prefix=self.prefix,
                since=self._since(context).isoformat(),
                suffix=self.suffix,
                aws_conn_id=self.aws_conn_id,
                poll_interval=self.poke_interval,
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context, event: dict[str, Any]) -> None:
        if event.get("status") != "success":
            raise AirflowException(event.get("message", f"no new object under s3://{self.bucket_name}/{self.prefix}"))
        self.log.info("new object s3://%s/%s", self.bucket_name, event["key"])
