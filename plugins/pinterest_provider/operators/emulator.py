"""Post events with the posting emulator (include.pinterest.emulator) through the ingestion API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseHook, BaseOperator
from airflow.sdk.exceptions import AirflowException, AirflowSkipException


class PostEventsOperator(BaseOperator):
    """Run the posting emulator once, in batch mode (REST proxy produce API) or stream mode (Kinesis API).

    Returns the run's summary (counts, rate, latencies) for XCom and pushes ``accepted`` (the count) under its
    own key. The accepted post ids can be many: they are written to the lake bucket at ``run_record_key`` and
    the summary carries only that key, so XCom stays small. The API key is the connection's password: it is
    passed to the emulator, never logged and never returned.

    Losses are not hidden: when more than ``max_failed_share`` of the events were not accepted for transient
    reasons (failed after retries, or not sent because the emulator's circuit breaker stopped the run), the
    task fails with the counts and the reason, after recording the ids that were accepted. Events the API
    rejected as invalid are the data's fault and are counted, not failed on.

    :param mode: ``batch`` or ``stream``.
    :param events: posts to send.
    :param rate: events per second (None: full speed).
    :param seed: sampling seed (same seed, same posts).
    :param enabled: False skips the task (the run's Params leave this mode out).
    :param max_failed_share: share of ``events`` (0..1) that may fail or go unsent before the task fails.
    :param source_conn_id: connection whose extra ``url`` is the source database's SQLAlchemy URL.
    :param api_conn_id: HTTP connection of the ingestion API (host, port, schema; password = API key).
    :param aws_conn_id: AWS connection used to write the accepted ids to ``bucket``.
    :param bucket: the lake bucket.
    """

    template_fields: Sequence[str] = (
        "mode",
        "events",
        "rate",
        "seed",
        "enabled",
        "max_failed_share",
        "source_conn_id",
        "api_conn_id",
    )
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        mode: str,
        events: int | str,
        rate: float | str | None = None,
        seed: int | str = 42,
        enabled: bool | str = True,
        max_failed_share: float | str = 0.0,
        source_conn_id: str,
        api_conn_id: str,
        aws_conn_id: str | None,
        bucket: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        self.events = events
        self.rate = rate
        self.seed = seed
        self.enabled = enabled
        self.max_failed_share = max_failed_share
        self.source_conn_id = source_conn_id
        self.api_conn_id = api_conn_id
        self.aws_conn_id = aws_conn_id
        self.bucket = bucket

    def execute(self, context) -> dict[str, Any]:
        import orjson
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from include.pinterest.emulator import EmulatorConfig, run
        from include.pinterest.lake import run_record_key

        if str(self.enabled).lower() in ("false", "0", "none", ""):
            raise AirflowSkipException(f"{self.mode} mode is not selected in this run's Params")
        api = BaseHook.get_connection(self.api_conn_id)
        target = api.host if "://" in (api.host or "") else f"{api.schema or 'http'}://{api.host}:{api.port}"
        summary = run(
            EmulatorConfig(
                source_url=BaseHook.get_connection(self.source_conn_id).extra_dejson["url"],
                target_url=target,
                api_key=api.password,
                mode=self.mode,
                events=int(self.events),
                seed=int(self.seed),
                track_inds=True,
                rate=float(self.rate) if self.rate not in (None, "", "None") else None,
            )
        )
        self.log.info("%s", summary)
        if summary.accepted == 0:
            raise AirflowException(
                f"the API accepted no {self.mode} events of {summary.sent}: {summary.rejected_reasons[:3]}"
            )
        key = run_record_key(context["run_id"], f"accepted-{self.mode}")
        S3Hook(aws_conn_id=self.aws_conn_id).load_bytes(
            orjson.dumps(sorted(summary.accepted_inds or ())), key, bucket_name=self.bucket, replace=True
        )
        context["ti"].xcom_push(key="accepted", value=summary.accepted)
        lost = summary.failed + summary.not_sent
        if lost > float(self.max_failed_share) * int(self.events):
            raise AirflowException(
                f"{lost} of {self.events} {self.mode} events were not accepted ({summary.failed} failed after "
                f"retries, {summary.not_sent} not sent; {summary.stopped_early or summary.rejected_reasons[:3]}); "
                f"the run tolerates {float(self.max_failed_share):.0%} (Param max_failed_share)"
            )
        return {**summary.as_dict(), "accepted_inds_key": key}
