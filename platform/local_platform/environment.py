"""The client environment of an instance: what points the API, the emulator, Spark, Airflow tasks and tests at it."""

from __future__ import annotations

import os

from local_platform.connections import airflow_env
from local_platform.instance import LOCAL_CREDENTIALS, Instance, bind_host
from local_platform.services.airflow import airflow_settings


def client_env(instance: Instance) -> dict[str, str]:
    """Variables for every client of ``instance``, including its Airflow connections and settings."""
    bucket = os.environ.get("PINTEREST_BUCKET", "pinterest-data-lake")
    env = {
        "PINTEREST_PROFILE": "local",
        "PINTEREST_PLATFORM_INSTANCE": instance.name,
        "PINTEREST_STATE_DIR": str(instance.state),
        "PINTEREST_TOPIC_PREFIX": os.environ.get("PINTEREST_TOPIC_PREFIX", "pinterest"),
        "PINTEREST_BUCKET": bucket,
        # Lineage: the Spark jobs' OpenLineage listener writes here (Airflow's transport: airflow_settings), and
        # Airflow and Spark name their jobs in one OpenLineage namespace.
        "PINTEREST_LINEAGE_DIR": str(instance.lineage_dir),
        "OPENLINEAGE_NAMESPACE": "pinterest",
        "KAFKA_BOOTSTRAP_SERVERS": f"localhost:{instance.port('kafka')}",
        "KAFKA_CONNECT_URL": instance.url("connect"),
        "S3_ENDPOINT_URL": instance.url("s3"),
        "KINESIS_ENDPOINT_URL": instance.url("kinesis"),
        "INGEST_API_URL": instance.url("ingest-api"),
        "SPARK_RUNNER_URL": instance.url("spark"),  # the batch notebooks run on the warm runner (services/spark.py)
        "INGEST_API_KEY": instance.secret("ingest-api-key"),
        **LOCAL_CREDENTIALS,  # dummies: they only satisfy the AWS SDKs' signers
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Spark's driver, block manager and UI bind to SPARK_LOCAL_IP (the UI to every interface without it).
        **({"SPARK_LOCAL_IP": "127.0.0.1"} if bind_host() == "127.0.0.1" else {}),
    }
    return {**env, **airflow_env(instance, env), **airflow_settings(instance)}
