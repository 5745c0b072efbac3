"""Tasks of the ``local`` profile: Kafka Connect's REST API, local Spark (the platform's warm Spark runner, else
``spark-submit``), the platform's streaming job. Same factories as ``include.orchestration.aws``."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import task

from include.orchestration.datasets import PipelineDatasets
from include.orchestration.params import stage_gate
from include.pinterest import airflow_connections as conn
from include.pinterest.settings import Settings
from pinterest_provider.operators.kafka_connect import KafkaConnectEnsureConnectorOperator
from pinterest_provider.operators.local_stream import LocalStreamJobStartOperator
from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
# The task's OpenLineage identity (the provider's macros), the parent of the Spark job's runs: read by
# include.pinterest.spark.session into spark.openlineage.parent*/rootParent* (see PARENT_RUN_CONF there).
_OL = "macros.OpenLineageProviderPlugin"
SPARK_PARENT_RUN = {
    "OPENLINEAGE_PARENT_JOB_NAMESPACE": f"{{{{ {_OL}.lineage_job_namespace() }}}}",
    "OPENLINEAGE_PARENT_JOB_NAME": f"{{{{ {_OL}.lineage_job_name(task_instance) }}}}",
    "OPENLINEAGE_PARENT_RUN_ID": f"{{{{ {_OL}.lineage_run_id(task_instance) }}}}",
    "OPENLINEAGE_ROOT_PARENT_JOB_NAMESPACE": f"{{{{ {_OL}.lineage_root_job_namespace(task_instance) }}}}",
    "OPENLINEAGE_ROOT_PARENT_JOB_NAME": f"{{{{ {_OL}.lineage_root_job_name(task_instance) }}}}",
    "OPENLINEAGE_ROOT_PARENT_RUN_ID": f"{{{{ {_OL}.lineage_root_run_id(task_instance) }}}}",
}


def ensure_connector(settings: Settings, data: PipelineDatasets):
    @task
    def s3_sink_config() -> dict[str, str]:
        """The connector configuration from include/connectors/, read at run time, not parse time."""
        from include.pinterest.connectors import load_connector_config

        return load_connector_config("local", Settings())

    return KafkaConnectEnsureConnectorOperator(
        task_id="ensure_s3_sink_connector",
        connector_name=settings.s3_sink_connector,
        config=s3_sink_config(),
        kafka_connect_conn_id=conn.KAFKA_CONNECT,
        inlets=data.topics,  # the connector this task defines moves the topics to the bronze prefixes
        outlets=data.bronze,
        doc_md="Create or update the S3 sink connector through the Kafka Connect REST API (idempotent).",
    )


def ensure_jobs(settings: Settings):
    """Local Spark runs the notebooks directly: there are no job definitions to create."""
    return []


def connector_running(settings: Settings):
    return KafkaConnectorRunningSensor(
        task_id="s3_sink_running",
        connector_name=settings.s3_sink_connector,
        kafka_connect_conn_id=conn.KAFKA_CONNECT,
        deferrable=True,
        poke_interval=5,
        timeout=600,
        doc_md="Waits until the connector and all its tasks are RUNNING; a FAILED one fails at once.",
    )


def batch_jobs(settings: Settings, data: PipelineDatasets):
    """Clean -> analyse on local Spark with Delta (the notebooks Databricks runs) -> report.

    Clean and analyse run on the platform's warm Spark runner (``include.pinterest.spark.runner``) when it is up,
    else with ``spark-submit``. The report reads nine gold tables of a few hundred rows: it needs no Spark at all,
    so it reads them through delta-rs, as the pipeline page does, and
    renders them with the code the Databricks notebook (``batch_report.py``) renders them with.
    """
    # The venv's interpreter (wherever the task runs): its spark-submit, should the runner be down, finds its Spark.
    submit = f"{sys.executable} -m include.pinterest.spark.session --submit"
    arguments = f"--lake-root {settings.lake_root_for('spark')} --topic-prefix {settings.topic_prefix}"
    lineage = {"clean": (data.bronze, [*data.silver, *data.quarantine]), "analyse": (data.silver, data.gold)}
    single_writer = {"max_active_tis_per_dag": 1}  # one writer of silver/gold at a time, across runs and backfills
    clean, analyse = (
        BashOperator(
            task_id=step,
            bash_command=f"{submit} {NOTEBOOKS / f'batch_{step}.py'} --app-name pinterest-batch-{step} {arguments}",
            env=SPARK_PARENT_RUN,
            append_env=True,
            inlets=lineage[step][0],
            outlets=lineage[step][1],
            **single_writer,
            execution_timeout=timedelta(minutes=30),
            pre_execute=stage_gate("batch") if step == "clean" else None,
            trigger_rule="none_failed" if step == "clean" else "all_success",  # batch may rerun on old bronze
            doc_md=f"`include/notebooks/batch_{step}.py` on local Spark with Delta.",
        )
        for step in ("clean", "analyse")
    )

    @task(inlets=data.gold, outlets=data.report, execution_timeout=timedelta(minutes=10), **single_writer)
    def report() -> str:
        """The nine answers as one HTML page next to the gold tables; returns its URI."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        from include.pinterest.lake import GOLD_TABLES, Lake
        from include.pinterest.report import read_gold, render_report
        from include.pinterest.verification import delta_storage_options

        lake = Lake.of(settings, "delta-rs")
        gold = read_gold(lake, delta_storage_options(settings))
        if missing := [name for name in GOLD_TABLES if name not in gold]:
            raise RuntimeError(f"gold tables missing, nothing to report: {', '.join(missing)}")
        bucket, key = S3Hook.parse_s3_url(lake.report)
        S3Hook(aws_conn_id=conn.AWS).load_string(render_report(gold), key=key, bucket_name=bucket, replace=True)
        return lake.report

    clean >> analyse >> report()


def start_stream_job(settings: Settings, data: PipelineDatasets):
    return LocalStreamJobStartOperator(
        task_id="start_stream_job",
        platform_instance=os.environ.get("PINTEREST_PLATFORM_INSTANCE", "dev"),
        inlets=data.streams,  # the job this task keeps running reads the streams into the stream tables
        outlets=[*data.stream_tables, *data.stream_quarantine],
        doc_md="Start the local streaming job as a supervised platform service (never a second copy).",
        max_active_tis_per_dag=1,  # two runs checking "is it running?" at once could both start it
    )
