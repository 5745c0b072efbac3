"""The pipeline's TaskFlow tasks, the same for both profiles: each gathers its inputs through Airflow hooks
(connections by id, at run time) and hands the work to ``include.pinterest``."""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import PokeReturnValue, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from include.orchestration.params import skip_unless_stage
from include.pinterest import airflow_connections as conn
from include.pinterest.settings import Settings


@task
def ensure_source() -> dict:
    """The emulator's source tables (generated locally when missing; on AWS the database exists)."""
    skip_unless_stage("ingestion")
    if Settings().profile == "aws":
        raise AirflowSkipException("the AWS profile reads an existing source database")
    from airflow.sdk import BaseHook

    from include.pinterest.source.generator import LOCAL_ROWS, LOCAL_SEED, write_source

    url = BaseHook.get_connection(conn.SOURCE).extra_dejson["url"]
    result = write_source(url, rows=LOCAL_ROWS, seed=LOCAL_SEED)
    return {"rows": result.rows, "created": result.created}


@task
def kafka_offsets() -> dict[str, dict[int, int]]:
    """Each topic's end offsets before posting: where this run's records start (for reconciliation)."""
    skip_unless_stage("ingestion")
    from airflow.providers.apache.kafka.hooks.consume import KafkaConsumerHook

    from include.pinterest.verification import partition_ends

    topics = Settings().topics
    consumer = KafkaConsumerHook(topics=topics, kafka_config_id=conn.KAFKA).get_consumer()
    try:
        metadata = consumer.list_topics(timeout=30).topics
        return {t: partition_ends(consumer, t, metadata[t].partitions) for t in topics}
    finally:
        consumer.close()


@task(trigger_rule="none_failed_min_one_success")
def stream_enabled() -> None:
    """Skips the streaming group when the run's Params leave streaming or stream mode out."""
    skip_unless_stage("streaming")
    if not get_current_context()["params"]["stream"]:
        raise AirflowSkipException("stream mode is off for this run")


def _accepted_inds(posted: dict | None) -> set[int]:
    """The post ids an emulator run got accepted, read back from the lake (XCom carries only their key)."""
    if not posted or not posted.get("accepted_inds_key"):
        return set()
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    return set(json.loads(S3Hook(aws_conn_id=conn.AWS).read_key(posted["accepted_inds_key"], Settings().bucket)))


@task.sensor(poke_interval=10, timeout=1200, mode="reschedule")
def stream_tables_caught_up(posted: dict | None) -> PokeReturnValue:
    """Each Delta stream table holds every post the stream-mode emulator got accepted."""
    from include.pinterest.lake import Lake
    from include.pinterest.verification import delta_inds, delta_storage_options

    settings = Settings()
    wanted = _accepted_inds(posted)
    options = delta_storage_options(settings)
    lag = {t: len(wanted - delta_inds(uri, options)) for t, uri in Lake.of(settings, "delta-rs").stream_tables.items()}
    print(f"stream tables missing posts of this run: {lag}")
    return PokeReturnValue(is_done=not any(lag.values()), xcom_value=lag)


@task(trigger_rule="none_failed")
def reconcile(posted: dict | None, streamed: dict | None, offsets: dict | None) -> dict[str, Any]:
    """Every post the API accepted this run is in Kafka, in bronze, in silver and in the stream tables; with the
    streaming job's last reported lag behind each stream's tip (its status files: local only, None on AWS)."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook
    from airflow.providers.apache.kafka.hooks.consume import KafkaConsumerHook

    from include.pinterest.lake import Lake
    from include.pinterest.streaming.status import read_status
    from include.pinterest.verification import (
        bronze_inds_since,
        delta_inds,
        delta_storage_options,
        kafka_inds_since,
        run_summary,
    )

    settings = Settings()
    accepted = _accepted_inds(posted)
    start = {t: {int(p): o for p, o in ends.items()} for t, ends in (offsets or {}).items()}
    kafka, bronze = {}, {}
    if accepted:
        consumer = KafkaConsumerHook(topics=settings.topics, kafka_config_id=conn.KAFKA).get_consumer()
        try:
            kafka = kafka_inds_since(consumer, settings, start)
        finally:
            consumer.close()
        s3 = S3Hook(aws_conn_id=conn.AWS)
        bronze = bronze_inds_since(
            lambda prefix: s3.list_keys(bucket_name=settings.bucket, prefix=prefix),
            lambda key: s3.read_key(key, bucket_name=settings.bucket),
            settings,
            start,
        )
    lake, options = Lake.of(settings, "delta-rs"), delta_storage_options(settings)
    return run_summary(
        accepted=accepted,
        stream_accepted=_accepted_inds(streamed),
        kafka=kafka,
        bronze=bronze,
        silver={t: delta_inds(uri, options) for t, uri in lake.silver_tables.items()},
        stream_tables={t: delta_inds(uri, options) for t, uri in lake.stream_tables.items()},
        api={"batch": posted or {}, "stream": streamed or {}},
        stream_lag_ms={t: (status or {}).get("millis_behind_latest") for t, status in read_status().items()},
    )


@task
def publish_summary(summary: dict) -> dict:
    """The run summary: returned (XCom) for the UI and `make run`, and written to the task log."""
    print("RUN SUMMARY " + json.dumps(summary, sort_keys=True))
    return summary
