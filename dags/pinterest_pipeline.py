"""
### Pinterest post analytics pipeline

One daily graph for the whole pipeline (contract: `shared/spec/pinterest-pipeline.md`):
**infrastructure** (topics, Kinesis streams, the lake bucket, the S3 sink connector) → **health** (the connector
and its tasks RUNNING) → **ingestion** (the posting emulator, batch mode through the REST proxy API, stream mode
through the Kinesis API) → **landing** (new bronze objects per topic) → **batch** (clean, analyse, report) and
**streaming** (the streaming job started once; Kinesis and the Delta stream tables caught up) → **verification**
(every post the API accepted, found at every stage; the summary as XCom and a `RUN SUMMARY` log line).

Losses are never a silent success: a posting task whose events were not all accepted for transient reasons
(failed after retries, or unsent because the emulator's circuit breaker saw the API stay down) fails with the
counts, unless the run's `max_failed_share` Param tolerates them (default 0). Events rejected as invalid are
counted in the summary, and the invalid records themselves go to the dead-letter places.

The profile (`PINTEREST_PROFILE`: `local` or `aws`) is configuration, never an edit of this file: its tasks come
from `include/orchestration/{local,aws}.py`. Connections by id (`include/pinterest/airflow_connections.py`).

Lineage: every task declares the datasets it reads and writes (`include/orchestration/datasets.py`: topics,
bronze prefixes, silver, gold, streams, stream tables) as inlets and outlets, which the OpenLineage provider
reports with the task's START and COMPLETE or FAIL events; the Spark jobs report theirs as its children.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.providers.openlineage.api.emission_policy import extend_global_openlineage_emission_policy
from airflow.sdk import TaskGroup, dag

from include.orchestration import profile_tasks, tasks
from include.orchestration.datasets import PipelineDatasets
from include.orchestration.params import PARAMS
from include.pinterest import airflow_connections as conn
from include.pinterest.lake import bronze_prefix
from include.pinterest.settings import TABLES, Settings
from pinterest_provider.callbacks import log_task_failure
from pinterest_provider.operators.emulator import PostEventsOperator
from pinterest_provider.operators.kafka import KafkaCreateTopicsOperator
from pinterest_provider.operators.kinesis import KinesisCreateStreamsOperator
from pinterest_provider.sensors.kinesis import KinesisRecordsArrivedSensor, KinesisStreamsActiveSensor
from pinterest_provider.sensors.s3 import S3NewObjectsSensor

SETTINGS = Settings()  # environment only: no network, Variable or connection lookups at parse time
PROFILE = profile_tasks(SETTINGS)
DATA = PipelineDatasets.of(SETTINGS)
POSTING = {
    "source_conn_id": conn.SOURCE,
    "api_conn_id": conn.INGEST_API,
    "bucket": SETTINGS.bucket,
    "rate": "{{ params.rate }}",
    "seed": "{{ params.seed }}",
    "max_failed_share": "{{ params.max_failed_share }}",
    "trigger_rule": "none_failed",
}


@dag(
    dag_id="pinterest_pipeline",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["pinterest", "kafka", "s3", "kinesis", "spark", SETTINGS.profile],
    params=PARAMS,
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
        "on_failure_callback": log_task_failure,
        "aws_conn_id": conn.AWS,
    },
)
def pinterest_pipeline():
    with TaskGroup("infrastructure", tooltip="Topics, streams, bucket, connector: each idempotent") as infrastructure:
        topics = KafkaCreateTopicsOperator(
            task_id="create_topics",
            topics=[*SETTINGS.topics, SETTINGS.dlq_topic],
            num_partitions=3,
            replication_factor=3 if SETTINGS.profile == "aws" else 1,
            kafka_config_id=conn.KAFKA,
            outlets=DATA.topics,
            doc_md="`<prefix>.pin|geo|user` and the API's dead-letter topic, with the Kafka provider's admin hook.",
        )
        streams = KinesisCreateStreamsOperator(
            task_id="create_streams",
            stream_names=SETTINGS.streams,
            shard_count=1,
            outlets=DATA.streams,
            doc_md="`streaming-<prefix>-pin|geo|user`; existing streams are kept.",
        )
        active = KinesisStreamsActiveSensor(
            task_id="streams_active",
            stream_names=SETTINGS.streams,
            poke_interval=5,
            timeout=600,
            mode="reschedule",
            inlets=DATA.streams,
            doc_md="Every stream ACTIVE (creation takes seconds).",
        )
        bucket = S3CreateBucketOperator(
            task_id="ensure_bucket",
            bucket_name=SETTINGS.bucket,
            doc_md="The lake bucket (bronze, silver, gold, stream tables); an existing bucket is left as is.",
        )
        streams >> active
        [topics, bucket] >> PROFILE.ensure_connector(SETTINGS, DATA)
        PROFILE.ensure_jobs(SETTINGS)

    with TaskGroup("health", tooltip="The connector and its tasks RUNNING") as health:
        PROFILE.connector_running(SETTINGS)

    with TaskGroup("ingestion", tooltip="The posting emulator, batch and stream mode") as ingestion:
        offsets = tasks.kafka_offsets.override(inlets=DATA.topics)()
        posted = PostEventsOperator(
            task_id="post_batch",
            mode="batch",
            events="{{ params.events }}",
            enabled="{{ 'ingestion' in params.stages }}",
            **POSTING,
            outlets=DATA.topics,
            doc_md="Posts through the REST proxy API into Kafka; returns the emulator's summary.",
        )
        streamed = PostEventsOperator(
            task_id="post_stream",
            mode="stream",
            events="{{ params.stream_events }}",
            enabled="{{ 'ingestion' in params.stages and params.stream }}",
            **POSTING,
            outlets=DATA.streams,
            doc_md="Posts through the Kinesis API; skipped when the run's `stream` Param is off.",
        )
        tasks.ensure_source() >> offsets >> [posted, streamed]

    with TaskGroup("landing", tooltip="New bronze objects per topic") as landing:
        for table, bronze in zip(TABLES, DATA.bronze, strict=True):
            S3NewObjectsSensor(
                task_id=f"bronze_{table}_landed",
                bucket_name=SETTINGS.bucket,
                prefix=bronze_prefix(SETTINGS.topic_prefix, table),
                suffix=".json",
                deferrable=True,
                poke_interval=5,
                timeout=900,
                trigger_rule="none_failed_min_one_success",  # stream mode may be off: batch posts suffice
                inlets=[bronze],
                doc_md=f"Deferrable wait for new bronze objects of `{SETTINGS.topic(table)}` (written since the run began).",
            )

    with TaskGroup("batch", tooltip="Clean, analyse, report") as batch:
        PROFILE.batch_jobs(SETTINGS, DATA)

    with TaskGroup("streaming", tooltip="Kinesis to the Delta stream tables") as streaming:
        arrived = KinesisRecordsArrivedSensor(
            task_id="records_arrived",
            stream_names=SETTINGS.streams,
            since="{{ dag_run.start_date.isoformat() }}",
            min_records=streamed.output["accepted"],
            poke_interval=10,
            timeout=900,
            mode="reschedule",
            inlets=DATA.streams,
            doc_md="Every stream received, since the run began, at least the records the API accepted.",
        )
        tasks.stream_enabled() >> PROFILE.start_stream_job(SETTINGS, DATA) >> arrived
        arrived >> tasks.stream_tables_caught_up.override(inlets=DATA.stream_tables)(streamed.output)

    with TaskGroup("verification", tooltip="Every accepted post at every stage") as verification:
        reconcile = tasks.reconcile.override(inlets=[*DATA.topics, *DATA.bronze, *DATA.silver, *DATA.stream_tables])
        tasks.publish_summary(reconcile(posted.output, streamed.output, offsets))

    infrastructure >> health >> ingestion
    ingestion >> landing >> batch >> verification
    ingestion >> streaming >> verification


# The declared inlets and outlets are the lineage: not what hooks report (the posting tasks' run records; in
# `airflow dags test`, where every task shares one process, the hook calls of the tasks before).
extend_global_openlineage_emission_policy(pinterest_pipeline(), hook_lineage=False)
