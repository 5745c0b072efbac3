"""The Airflow connection catalog of the local platform: every connection id the DAG uses
(``include.pinterest.airflow_connections``), as ``AIRFLOW_CONN_*`` variables pointing at one instance."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from include.pinterest import airflow_connections as conn
from include.pinterest.source.generator import local_source_url

if TYPE_CHECKING:
    from local_platform.instance import Instance


def connections(instance: Instance, client: dict[str, str]) -> dict[str, dict]:
    """Connection id -> Airflow connection (JSON form) for ``instance``; ``client`` is its client environment."""
    return {
        conn.AWS: {
            "conn_type": "aws",
            "extra": {
                "region_name": client["AWS_DEFAULT_REGION"],
                "aws_access_key_id": client["AWS_ACCESS_KEY_ID"],
                "aws_secret_access_key": client["AWS_SECRET_ACCESS_KEY"],
                "service_config": {
                    "s3": {"endpoint_url": client["S3_ENDPOINT_URL"]},
                    "kinesis": {"endpoint_url": client["KINESIS_ENDPOINT_URL"]},
                },
            },
        },
        conn.KAFKA: {
            "conn_type": "kafka",
            "extra": {
                "bootstrap.servers": client["KAFKA_BOOTSTRAP_SERVERS"],
                "group.id": "pinterest-airflow",
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
            },
        },
        conn.KAFKA_CONNECT: {
            "conn_type": "http",
            "host": "localhost",
            "port": instance.port("connect"),
            "schema": "http",
        },
        conn.SOURCE: {"conn_type": "generic", "extra": {"url": local_source_url(instance.state)}},
        conn.INGEST_API: {
            "conn_type": "http",
            "host": "localhost",
            "port": instance.port("ingest-api"),
            "schema": "http",
            "password": client["INGEST_API_KEY"],
        },
    }


def airflow_env(instance: Instance, client: dict[str, str]) -> dict[str, str]:
    """The connections as ``AIRFLOW_CONN_<ID>`` variables (Airflow reads them before its database)."""
    return {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(c) for cid, c in connections(instance, client).items()}
