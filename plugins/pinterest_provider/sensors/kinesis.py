"""Sensors on Kinesis streams: every stream ACTIVE; the records a run emitted have arrived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from pinterest_provider.hooks.kinesis import KinesisStreamsHook


class KinesisStreamsActiveSensor(BaseSensorOperator):
    """Wait until every stream in ``stream_names`` is ACTIVE; fail at once if one is missing or DELETING."""

    template_fields: Sequence[str] = ("stream_names",)

    def __init__(self, *, stream_names: Sequence[str], aws_conn_id: str | None = "aws_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stream_names = stream_names
        self.aws_conn_id = aws_conn_id

    def poke(self, context) -> bool:
        hook = KinesisStreamsHook(aws_conn_id=self.aws_conn_id)
        states = {name: hook.stream_status(name) for name in self.stream_names}
        self.log.info("stream states: %s", states)
        broken = {n: s for n, s in states.items() if s in (None, "DELETING")}
        if broken:
            raise AirflowFailException(f"streams missing or being deleted: {broken}")
        return all(s == "ACTIVE" for s in states.values())


class KinesisRecordsArrivedSensor(BaseSensorOperator):
    """Wait until each stream holds at least ``min_records`` records that arrived since ``since`` (ISO time)."""

    template_fields: Sequence[str] = ("stream_names", "min_records", "since")

    def __init__(
        self,
        *,
        stream_names: Sequence[str],
        min_records: int | str,
        since: str,
        aws_conn_id: str | None = "aws_default",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stream_names = stream_names
        self.min_records = min_records
        self.since = since
        self.aws_conn_id = aws_conn_id

    def poke(self, context) -> bool:
        hook = KinesisStreamsHook(aws_conn_id=self.aws_conn_id)
        since = datetime.fromisoformat(str(self.since))
        counts = {name: hook.count_records_since(name, since) for name in self.stream_names}
        self.log.info("records since %s: %s (want >= %s each)", since.isoformat(), counts, self.min_records)
        return all(count >= int(self.min_records) for count in counts.values())
