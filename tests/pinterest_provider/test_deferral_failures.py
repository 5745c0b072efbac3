"""Deferral and failure paths through `airflow dags test` (= `dag.test()`, which runs the triggers
in-process) against the real test platform. Each case is a tiny DAG file in its own DAG folder, because
Airflow 3 only tests DAGs it has serialized from a bundle."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import httpx
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration

HEADER = """
from datetime import datetime
from airflow.sdk import DAG
"""


def _dags_test(platform_env, tmp_path, dag_id: str, body: str) -> subprocess.CompletedProcess:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{dag_id}.py").write_text(HEADER + textwrap.dedent(body))
    env = {
        **os.environ,
        **platform_env,
        "AIRFLOW_HOME": str(tmp_path / "home"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
    }
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    return subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id], env=env, capture_output=True, text=True, timeout=600
    )


def test_connector_sensor_defers_and_succeeds_through_the_trigger(platform_env, tmp_path):
    import boto3
    from confluent_kafka.admin import AdminClient, NewTopic

    from include.pinterest.connectors import load_connector_config

    # The sink needs its bucket and topic (a missing bucket fails its task, which the sensor reports).
    s3 = boto3.client("s3", endpoint_url=platform_env["S3_ENDPOINT_URL"], region_name="us-east-1")
    if "pinterest-data-lake" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket="pinterest-data-lake")
    admin = AdminClient({"bootstrap.servers": platform_env["KAFKA_BOOTSTRAP_SERVERS"]})
    for future in admin.create_topics([NewTopic("deferral-probe", 1, 1)]).values():
        try:
            future.result()
        except Exception as error:  # already there from an earlier run
            assert "TOPIC_ALREADY_EXISTS" in str(error)
    connect = platform_env["KAFKA_CONNECT_URL"]
    httpx.put(
        f"{connect}/connectors/deferral-probe/config",
        json={**load_connector_config("local"), "topics": "deferral-probe"},
        timeout=30,
    ).raise_for_status()
    try:
        run = _dags_test(
            platform_env,
            tmp_path,
            "deferral_success",
            """
            from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor
            with DAG("deferral_success", start_date=datetime(2026, 1, 1), schedule=None):
                KafkaConnectorRunningSensor(task_id="probe_running", connector_name="deferral-probe",
                                            kafka_connect_conn_id="pinterest_kafka_connect", deferrable=True,
                                            poke_interval=1, timeout=180, retries=0)
        """,
        )
    finally:
        httpx.delete(f"{connect}/connectors/deferral-probe", timeout=30)
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "state=success" in output, output[-3000:]


def test_connector_sensor_times_out_with_a_clear_message(platform_env, tmp_path):
    # Poke mode: `dags test` runs triggers in-process but does not enforce deferral timeouts (the
    # scheduler does), so the timeout path is exercised where the sensor itself enforces it.
    run = _dags_test(
        platform_env,
        tmp_path,
        "sensor_timeout",
        """
        from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor
        with DAG("sensor_timeout", start_date=datetime(2026, 1, 1), schedule=None):
            KafkaConnectorRunningSensor(task_id="missing_connector", connector_name="no-such-connector",
                                        kafka_connect_conn_id="pinterest_kafka_connect", mode="poke",
                                        poke_interval=1, timeout=4, retries=0)
    """,
    )
    output = run.stdout + run.stderr
    assert "state=failed" in output, output[-3000:]
    assert "the connector does not exist yet" in output
    assert "AirflowSensorTimeout" in output


def test_failed_task_logs_one_clear_line(platform_env, tmp_path):
    run = _dags_test(
        platform_env,
        tmp_path,
        "failure_line",
        """
        from pinterest_provider.callbacks import log_task_failure
        from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor
        with DAG("failure_line", start_date=datetime(2026, 1, 1), schedule=None,
                 default_args={"on_failure_callback": log_task_failure, "retries": 0}):
            KafkaConnectorRunningSensor(task_id="wrong_port", connector_name="x", kafka_connect_conn_id="pinterest_kafka_connect",
                                        timeout=2, poke_interval=1, mode="poke")
    """,
    )
    output = run.stdout + run.stderr
    assert "TASK FAILED failure_line.wrong_port try 1" in output, output[-3000:]
