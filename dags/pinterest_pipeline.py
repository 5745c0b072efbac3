"""
### Pinterest post analytics pipeline

One daily graph for the whole pipeline (contract: `shared/spec/pinterest-pipeline.md`), in task groups:

1. **infrastructure**: Kafka topics, Kinesis streams (waited until ACTIVE), the lake bucket, the S3 sink
   connector (Kafka Connect locally, MSK Connect on AWS; configuration kept in `include/`).
2. **health**: the connector and all its tasks RUNNING; a FAILED one fails the run at once with its trace.
3. **ingestion**: the posting emulator, batch mode through the REST proxy API and stream mode through the
   Kinesis API (counts and rate from the run's Params).
4. **landing**: deferrable S3 sensors wait for each topic's new bronze objects.
5. **batch**: clean, then analyse, then report (local `spark-submit` of the notebooks, or the Databricks job).
6. **streaming**: start the streaming job idempotently, wait for the emitted records in Kinesis, then for the
   Delta stream tables to catch up.
7. **verification**: reconcile the run's posts across stages and publish a summary (XCom and log).

The profile (`PINTEREST_PROFILE`: `local` or `aws`) is configuration, never an edit of this file.
Connections by id only: `pinterest_kafka`, `pinterest_kafka_connect` (local), `pinterest_aws`,
`pinterest_ingest_api`, `pinterest_source`, `databricks_default` (aws).
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import Asset, Param, dag, get_current_context, task, task_group
from airflow.sdk.exceptions import AirflowSkipException

from include.pinterest.lake import bronze_prefix
from include.pinterest.settings import TABLES, Settings
from pinterest_provider.callbacks import log_task_failure
from pinterest_provider.operators.kafka import KafkaCreateTopicsOperator
from pinterest_provider.operators.kinesis import KinesisCreateStreamsOperator
from pinterest_provider.sensors.kinesis import KinesisRecordsArrivedSensor, KinesisStreamsActiveSensor

KAFKA_CONN = "pinterest_kafka"
KAFKA_CONNECT_CONN = "pinterest_kafka_connect"
AWS_CONN = "pinterest_aws"
API_CONN = "pinterest_ingest_api"
SOURCE_CONN = "pinterest_source"
SETTINGS = Settings()  # environment only: no network, Variable or connection lookups at parse time
AWS = SETTINGS.profile == "aws"
REPO = Path(__file__).resolve().parent.parent
STAGES = ["ingestion", "batch", "streaming"]
SILVER = [Asset(f"s3://{SETTINGS.bucket}/silver/{table}") for table in TABLES]
GOLD = [Asset(f"s3://{SETTINGS.bucket}/gold")]


def _stage_enabled(stage: str) -> None:
    if stage not in get_current_context()["params"]["stages"]:
        raise AirflowSkipException(f"stage {stage} not selected in this run's Params")


def _new_bronze_objects(files: list[dict], **context) -> bool:
    """check_fn of the landing sensors: at least one bronze object written since this run started."""
    started = context["dag_run"].start_date
    return any(f.get("LastModified") and f["LastModified"] >= started - timedelta(seconds=2) for f in files)


@dag(
    dag_id="pinterest_pipeline",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["pinterest", "kafka", "s3", "kinesis", "spark", SETTINGS.profile],
    params={
        "events": Param(1000, type="integer", minimum=1, maximum=1_000_000, title="Posts to send (batch mode)"),
        "rate": Param(None, type=["null", "number"], minimum=1, title="Events per second (empty: full speed)"),
        "stream": Param(True, type="boolean", title="Also send posts in stream mode (Kinesis)"),
        "stream_events": Param(200, type="integer", minimum=1, maximum=100_000, title="Posts to send (stream mode)"),
        "seed": Param(42, type="integer", title="Sampling seed (same seed, same posts)"),
        "stages": Param(STAGES, type="array", items={"type": "string", "enum": STAGES}, title="Stages to run",
                        description="Infrastructure, health and verification always run."),
    },
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
        "on_failure_callback": log_task_failure,
    },
)
def pinterest_pipeline():
    @task_group
    def infrastructure():
        """Topics, streams, bucket and connector: every step idempotent, so a rerun changes nothing."""
        topics = KafkaCreateTopicsOperator(
            task_id="create_topics", topics=[*SETTINGS.topics, SETTINGS.dlq_topic], num_partitions=3,
            replication_factor=3 if AWS else 1, kafka_config_id=KAFKA_CONN,
            doc_md="`<prefix>.pin|geo|user` and the API's dead-letter topic, with the Kafka provider's admin hook.",
        )
        streams = KinesisCreateStreamsOperator(
            task_id="create_streams", stream_names=SETTINGS.streams, shard_count=1, aws_conn_id=AWS_CONN,
            doc_md="`streaming-<prefix>-pin|geo|user`; existing streams are kept.",
        )
        active = KinesisStreamsActiveSensor(
            task_id="streams_active", stream_names=SETTINGS.streams, aws_conn_id=AWS_CONN,
            poke_interval=5, timeout=600, mode="reschedule", doc_md="Every stream ACTIVE (creation takes seconds).",
        )
        bucket = S3CreateBucketOperator(
            task_id="ensure_bucket", bucket_name=SETTINGS.bucket, aws_conn_id=AWS_CONN,
            doc_md="The lake bucket (bronze, silver, gold, stream tables); an existing bucket is left as is.",
        )
        streams >> active
        [topics, bucket] >> _ensure_connector()

    @task_group
    def health():
        _connector_running()

    @task_group
    def ingestion():
        @task
        def ensure_source() -> dict:
            """The emulator's source tables (generated locally when missing; on AWS the database exists)."""
            _stage_enabled("ingestion")
            if AWS:
                raise AirflowSkipException("the AWS profile reads an existing source database")
            from airflow.sdk import BaseHook

            from include.pinterest.tasks import ensure_local_source

            return ensure_local_source(BaseHook.get_connection(SOURCE_CONN).extra_dejson["url"], rows=11_000, seed=7)

        def _post(mode: str) -> dict:
            from airflow.sdk import BaseHook

            from include.pinterest.tasks import post_events

            params = get_current_context()["params"]
            api = BaseHook.get_connection(API_CONN)
            target = api.host if "://" in (api.host or "") else f"{api.schema or 'http'}://{api.host}:{api.port}"
            return post_events(
                source_url=BaseHook.get_connection(SOURCE_CONN).extra_dejson["url"], target_url=target,
                api_key=api.password, mode=mode, settings=SETTINGS, seed=params["seed"], rate=params["rate"],
                events=params["events"] if mode == "batch" else params["stream_events"],
            )

        @task(trigger_rule="none_failed")
        def post_batch() -> dict:
            """Posts through the REST proxy API into Kafka; returns the emulator's summary."""
            _stage_enabled("ingestion")
            return _post("batch")

        @task(trigger_rule="none_failed")
        def post_stream() -> dict:
            """Posts through the Kinesis API; skipped when the run's `stream` Param is off."""
            _stage_enabled("ingestion")
            if not get_current_context()["params"]["stream"]:
                raise AirflowSkipException("stream mode is off for this run")
            return _post("stream")

        @task
        def kafka_offsets() -> dict[str, dict[int, int]]:
            """Each topic's end offsets before posting: where this run's records start (for reconciliation)."""
            _stage_enabled("ingestion")
            from airflow.providers.apache.kafka.hooks.consume import KafkaConsumerHook

            from include.pinterest.verification import partition_ends

            consumer = KafkaConsumerHook(topics=SETTINGS.topics, kafka_config_id=KAFKA_CONN).get_consumer()
            try:
                metadata = consumer.list_topics(timeout=30).topics
                return {t: partition_ends(consumer, t, metadata[t].partitions) for t in SETTINGS.topics}
            finally:
                consumer.close()

        ensure_source() >> kafka_offsets() >> [post_batch(), post_stream()]

    @task_group
    def landing():
        for table in TABLES:
            S3KeySensor(
                task_id=f"bronze_{table}_landed", bucket_name=SETTINGS.bucket,
                bucket_key=f"{bronze_prefix(SETTINGS.topic_prefix, table)}partition=*/*.json", wildcard_match=True,
                metadata_keys=["Key", "LastModified"], check_fn=_new_bronze_objects,
                aws_conn_id=AWS_CONN, deferrable=True, poke_interval=5, timeout=900,
                trigger_rule="none_failed_min_one_success",  # stream mode may be off: batch posts suffice
                doc_md=f"Deferrable wait for new bronze objects of `{SETTINGS.topic(table)}` (written since the run began).",
            )

    @task_group
    def batch():
        _batch_jobs()

    @task_group
    def streaming():
        start = _start_stream_job()
        arrived = KinesisRecordsArrivedSensor(
            task_id="records_arrived", stream_names=SETTINGS.streams, aws_conn_id=AWS_CONN,
            since="{{ dag_run.start_date.isoformat() }}",
            min_records="{{ (ti.xcom_pull(task_ids='ingestion.post_stream') or {}).get('accepted', 0) }}",
            poke_interval=10, timeout=900, mode="reschedule",
            doc_md="Every stream received, since the run began, at least the records the API accepted.",
        )

        @task.sensor(poke_interval=10, timeout=1200, mode="reschedule")
        def stream_tables_caught_up():
            """Each Delta stream table holds every post the stream-mode emulator got accepted."""
            from airflow.sdk import PokeReturnValue

            from include.pinterest.tasks import delta_inds, delta_storage_options, stream_table_uris

            posted = get_current_context()["ti"].xcom_pull(task_ids="ingestion.post_stream") or {}
            wanted = set(posted.get("accepted_inds", []))
            have = {t: delta_inds(uri, delta_storage_options(SETTINGS)) for t, uri in stream_table_uris(SETTINGS).items()}
            lag = {t: len(wanted - inds) for t, inds in have.items()}
            print(f"stream tables missing posts of this run: {lag}")
            return PokeReturnValue(is_done=not any(lag.values()), xcom_value=lag)

        @task(trigger_rule="none_failed_min_one_success")
        def stream_enabled():
            """Skips the streaming group when the run's Params leave streaming or stream mode out."""
            _stage_enabled("streaming")
            if not get_current_context()["params"]["stream"]:
                raise AirflowSkipException("stream mode is off for this run")

        stream_enabled() >> start >> arrived >> stream_tables_caught_up()

    @task_group
    def verification():
        @task(trigger_rule="none_failed")
        def reconcile() -> dict:
            """Every post the API accepted this run is in Kafka, in bronze, in silver and in the stream tables."""
            from include.pinterest.verification import StageCount, reconcile as reconcile_stages
            from include.pinterest.tasks import delta_inds, delta_storage_options, silver_uris, stream_table_uris

            ti = get_current_context()["ti"]
            posted = ti.xcom_pull(task_ids="ingestion.post_batch") or {}
            streamed = ti.xcom_pull(task_ids="ingestion.post_stream") or {}
            accepted = set(posted.get("accepted_inds", []))
            options = delta_storage_options(SETTINGS)
            start = {t: {int(p): o for p, o in offsets.items()}
                     for t, offsets in (ti.xcom_pull(task_ids="ingestion.kafka_offsets") or {}).items()}
            kafka = _kafka_inds(start) if accepted else {}
            bronze = _bronze_inds(start) if accepted else {}
            silver = {t: delta_inds(uri, options) for t, uri in silver_uris(SETTINGS).items()}
            stages = ([StageCount(f"kafka.{t}", inds) for t, inds in kafka.items()]
                      + [StageCount(f"bronze.{t}", inds) for t, inds in bronze.items()]
                      + [StageCount(f"silver.{t}", inds) for t, inds in silver.items()])
            summary = reconcile_stages(accepted, stages)
            stream_accepted = set(streamed.get("accepted_inds", []))
            stream_tables = {t: delta_inds(uri, options) for t, uri in stream_table_uris(SETTINGS).items()}
            summary["stream"] = reconcile_stages(
                stream_accepted, [StageCount(f"stream.{t}", inds) for t, inds in stream_tables.items()])
            summary["api"] = {m: {k: s.get(k) for k in ("sent", "accepted", "rejected", "failed", "retried", "events_per_s",
                                                          "latency_p50_ms", "latency_p99_ms")} for m, s in (("batch", posted), ("stream", streamed)) if s}
            return summary

        @task
        def publish_summary(summary: dict) -> dict:
            """The run summary: returned (XCom) for the UI and `make run`, and written to the task log."""
            import json

            print("RUN SUMMARY " + json.dumps(summary, sort_keys=True))
            return summary

        publish_summary(reconcile())

    posted = ingestion()
    verified = verification()
    infrastructure() >> health() >> posted
    posted >> landing() >> batch() >> verified
    posted >> streaming() >> verified


def _kafka_inds(start_offsets: dict[str, dict[int, int]]) -> dict[str, set[int]]:
    """Post keys written to each topic since the offsets captured before posting."""
    from airflow.providers.apache.kafka.hooks.consume import KafkaConsumerHook

    from include.pinterest.verification import kafka_inds

    consumer = KafkaConsumerHook(topics=SETTINGS.topics, kafka_config_id=KAFKA_CONN).get_consumer()
    try:
        consumer.unsubscribe()
        return {table: kafka_inds(consumer, SETTINGS.topic(table), start_offsets.get(SETTINGS.topic(table), {}))
                for table in TABLES}
    finally:
        consumer.close()


def _bronze_inds(start_offsets: dict[str, dict[int, int]]) -> dict[str, set[int]]:
    """Post keys in the bronze objects that can hold the records written since ``start_offsets``."""
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    from include.pinterest.verification import bronze_keys_from, inds_in_json_lines

    hook = S3Hook(aws_conn_id=AWS_CONN)
    found = {}
    for table in TABLES:
        keys = hook.list_keys(bucket_name=SETTINGS.bucket, prefix=bronze_prefix(SETTINGS.topic_prefix, table))
        inds: set[int] = set()
        for key in bronze_keys_from(keys, start_offsets.get(SETTINGS.topic(table), {})):
            inds |= inds_in_json_lines(hook.read_key(key, bucket_name=SETTINGS.bucket).splitlines())
        found[table] = inds
    return found


def _ensure_connector():
    if AWS:
        from pinterest_provider.operators.msk_connect import MskConnectEnsureConnectorOperator

        @task
        def msk_connect_request() -> dict:
            """The CreateConnector body from include/aws/msk-connect/, filled at run time, not parse time."""
            from include.pinterest.connectors import load_msk_connect_request

            return load_msk_connect_request(SETTINGS)

        return MskConnectEnsureConnectorOperator(
            task_id="ensure_s3_sink_connector", request=msk_connect_request(), aws_conn_id=AWS_CONN,
            doc_md="Create the S3 sink on MSK Connect unless it exists.",
        )
    from pinterest_provider.operators.kafka_connect import KafkaConnectEnsureConnectorOperator

    @task
    def s3_sink_config() -> dict[str, str]:
        """The connector configuration from include/connectors/, read at run time, not parse time."""
        from include.pinterest.connectors import load_connector_config

        return load_connector_config("local", SETTINGS)

    return KafkaConnectEnsureConnectorOperator(
        task_id="ensure_s3_sink_connector", connector_name=SETTINGS.s3_sink_connector,
        config=s3_sink_config(), kafka_connect_conn_id=KAFKA_CONNECT_CONN,
        doc_md="Create or update the S3 sink connector through the Kafka Connect REST API (idempotent).",
    )


def _connector_running():
    if AWS:
        from pinterest_provider.sensors.msk_connect import MskConnectorRunningSensor

        return MskConnectorRunningSensor(
            task_id="s3_sink_running", connector_name=SETTINGS.s3_sink_connector, aws_conn_id=AWS_CONN,
            poke_interval=30, timeout=1800, mode="reschedule",
            doc_md="The MSK Connect connector RUNNING; FAILED fails at once with its state description.",
        )
    from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor

    return KafkaConnectorRunningSensor(
        task_id="s3_sink_running", connector_name=SETTINGS.s3_sink_connector,
        kafka_connect_conn_id=KAFKA_CONNECT_CONN, deferrable=True, poke_interval=5, timeout=600,
        doc_md="Waits until the connector and all its tasks are RUNNING; a FAILED one fails at once.",
    )


def _batch_jobs():
    """Clean, analyse, report: the Databricks job on AWS, the same notebooks through spark-submit locally."""
    if AWS:
        from airflow.providers.databricks.operators.databricks import DatabricksRunNowOperator

        return DatabricksRunNowOperator(
            task_id="clean_analyse_report", job_name=SETTINGS.batch_job, deferrable=True,
            trigger_rule="none_failed",
            durable=True, outlets=[*SILVER, *GOLD], pre_execute=lambda context: _stage_enabled("batch"),
            doc_md="The Databricks job `<prefix>-batch` (include/aws/databricks/jobs.json): clean -> analyse -> report.",
        )
    # spark-submit finds Spark through the venv's python (find_spark_home): the venv goes first on PATH.
    venv = Path(sys.executable).parent
    spark_submit = f"export PATH={venv}:$PATH; spark-submit $(python -m include.pinterest.spark.session --submit-args)"
    arguments = f"--lake-root {SETTINGS.lake_root_for('spark')} --topic-prefix {SETTINGS.topic_prefix}"
    steps = []
    for name, outlets in (("clean", SILVER), ("analyse", GOLD), ("report", [])):
        steps.append(BashOperator(
            task_id=name, cwd=str(REPO), outlets=outlets, execution_timeout=timedelta(minutes=30),
            bash_command=f"{spark_submit} include/notebooks/batch_{name}.py {arguments}",
            pre_execute=(lambda context: _stage_enabled("batch")) if name == "clean" else None,
            trigger_rule="none_failed" if name == "clean" else "all_success",  # batch may rerun on old bronze
            doc_md=f"`include/notebooks/batch_{name}.py` on local Spark with Delta.",
        ))
    steps[0] >> steps[1] >> steps[2]


def _start_stream_job():
    if AWS:
        from pinterest_provider.operators.databricks import DatabricksEnsureJobRunningOperator

        return DatabricksEnsureJobRunningOperator(
            task_id="start_stream_job", job_name=SETTINGS.stream_job,
            doc_md="Start the Databricks streaming job unless a run of it is active (never two copies).",
        )

    @task
    def start_stream_job() -> str:
        """Start the local streaming job as a supervised platform service (no second copy)."""
        import os

        from include.pinterest.tasks import start_local_stream_job

        return start_local_stream_job(os.environ.get("PINTEREST_PLATFORM_INSTANCE", "dev"))

    return start_stream_job()


pinterest_pipeline()
