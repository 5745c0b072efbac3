"""
### Pinterest post analytics pipeline

One daily graph for the whole pipeline (spec: `shared/spec/pinterest-pipeline.md`):

1. **infrastructure**: the three Kafka topics, the lake bucket, the S3 sink connector (configuration kept in
   `include/connectors/`).
2. **health**: the connector and all its tasks are RUNNING (fails at once, with the trace, when one FAILED).
3. **ingestion**: posts produced to the three topics.
4. **landing**: deferrable S3 sensors wait for each topic's bronze objects (`topics/<topic>/partition=<p>/...`).

Connections by id only (`pinterest_kafka`, `pinterest_kafka_connect`, `pinterest_aws`): `AIRFLOW_CONN_*`
variables on the local platform, Secrets Manager on MWAA. Names come from `include/pinterest/settings.py`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator
from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
from airflow.providers.apache.kafka.operators.produce import ProduceToTopicOperator
from airflow.sdk import dag, task, task_group

from include.pinterest.settings import TABLES, Settings
from pinterest_provider.operators.kafka import KafkaCreateTopicsOperator
from pinterest_provider.operators.kafka_connect import KafkaConnectEnsureConnectorOperator
from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor

KAFKA_CONN = "pinterest_kafka"
KAFKA_CONNECT_CONN = "pinterest_kafka_connect"
AWS_CONN = "pinterest_aws"
SETTINGS = Settings()  # environment only: no network, Variable or connection lookups at parse time


@dag(
    dag_id="pinterest_pipeline",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["pinterest", "kafka", "s3"],
    default_args={
        "owner": "data-platform",
        "retries": 2,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
    },
)
def pinterest_pipeline():
    @task_group
    def infrastructure():
        """Topics, bucket and connector: every step idempotent, so a rerun changes nothing."""
        topics = KafkaCreateTopicsOperator(
            task_id="create_topics",
            topics=SETTINGS.topics,
            num_partitions=3,
            kafka_config_id=KAFKA_CONN,
            doc_md="Create `<prefix>.pin|geo|user` with the Kafka provider's admin hook; existing topics are kept.",
        )
        bucket = S3CreateBucketOperator(
            task_id="ensure_bucket",
            bucket_name=SETTINGS.bucket,
            aws_conn_id=AWS_CONN,
            doc_md="The lake bucket (bronze, silver, gold); an existing bucket is left as is.",
        )

        @task
        def s3_sink_config() -> dict[str, str]:
            """The connector configuration from include/connectors/, read at run time, not parse time."""
            from include.pinterest.connectors import load_connector_config

            return load_connector_config("local", SETTINGS)

        connector = KafkaConnectEnsureConnectorOperator(
            task_id="ensure_s3_sink_connector",
            connector_name=f"{SETTINGS.topic_prefix}-s3-sink",
            config=s3_sink_config(),
            kafka_connect_conn_id=KAFKA_CONNECT_CONN,
            doc_md="Create or update the S3 sink connector through the Kafka Connect REST API (idempotent).",
        )
        [topics, bucket] >> connector

    @task_group
    def health():
        KafkaConnectorRunningSensor(
            task_id="s3_sink_running",
            connector_name=f"{SETTINGS.topic_prefix}-s3-sink",
            kafka_connect_conn_id=KAFKA_CONNECT_CONN,
            deferrable=True,
            poke_interval=5,
            timeout=600,
            doc_md="Waits until the connector and all its tasks are RUNNING; a FAILED one fails at once.",
        )

    @task_group
    def ingestion():
        for table in TABLES:
            ProduceToTopicOperator(
                task_id=f"produce_{table}",
                topic=SETTINGS.topic(table),
                kafka_config_id=KAFKA_CONN,
                producer_function="include.pinterest.samples.sample_messages",
                producer_function_kwargs={"table": table, "posts": 5},
                doc_md=f"A handful of generated {table} records, keyed by `ind`.",
            )

    @task_group
    def landing():
        for table in TABLES:
            S3KeySensor(
                task_id=f"bronze_{table}_landed",
                bucket_name=SETTINGS.bucket,
                bucket_key=f"{SETTINGS.bronze_prefix(table)}partition=*/*.json",
                wildcard_match=True,
                aws_conn_id=AWS_CONN,
                deferrable=True,
                poke_interval=5,
                timeout=600,
                doc_md=f"Deferrable wait for the S3 sink's bronze objects of `{SETTINGS.topic(table)}`.",
            )

    infrastructure() >> health() >> ingestion() >> landing()


pinterest_pipeline()
