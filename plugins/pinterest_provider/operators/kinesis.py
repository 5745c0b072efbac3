"""Create the pipeline's Kinesis streams (idempotent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from pinterest_provider.hooks.kinesis import KinesisStreamsHook


class KinesisCreateStreamsOperator(BaseOperator):
    """Make sure each of ``stream_names`` exists (existing streams are left as they are)."""

    template_fields: Sequence[str] = ("stream_names",)

    def __init__(
        self,
        *,
        stream_names: Sequence[str],
        shard_count: int = 1,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stream_names = stream_names
        self.shard_count = shard_count
        self.aws_conn_id = aws_conn_id

    def execute(self, context) -> dict[str, str]:
        hook = KinesisStreamsHook(aws_conn_id=self.aws_conn_id)
        actions = {name: hook.ensure_stream(name, self.shard_count) for name in self.stream_names}
        self.log.info("streams: %s", actions)
        return actions
