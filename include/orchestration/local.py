"""Tasks of the ``local`` profile: Kafka Connect's REST API, local Spark through ``spark-submit``, the platform's
streaming job. Same factories as ``include.orchestration.aws``."""

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
BATCH_STEPS = ("clean", "analyse", "report")
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
    """Clean -> analyse -> report: the notebooks Databricks runs, on local Spark with Delta."""
    session = f"{sys.executable} -m include.pinterest.spark.session"
    arguments = f"--lake-root {settings.lake_root_for('spark')} --topic-prefix {settings.topic_prefix}"
    # spark-submit finds Spark through the interpreter that has pyspark: the venv's, wherever the task runs.
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", **SPARK_PARENT_RUN}
    lineage = {
        "clean": (data.bronze, [*data.silver, *data.quarantine]),
        "analyse": (data.silver, data.gold),
        "report": (data.gold, data.report),
    }
    steps = [
        BashOperator(
            task_id=step,
            bash_command=(
                f"spark-submit $({session} --submit-args --app-name pinterest-batch-{step}) "
                f"{NOTEBOOKS / f'batch_{step}.py'} {arguments}"
            ),
            env=env,
            append_env=True,
            inlets=lineage[step][0],
            outlets=lineage[step][1],
            max_active_tis_per_dag=1,  # one writer of silver/gold at a time, across runs and backfills
            execution_timeout=timedelta(minutes=30),
            pre_execute=stage_gate("batch") if step == "clean" else None,
            trigger_rule="none_failed" if step == "clean" else "all_success",  # batch may rerun on old bronze
            doc_md=f"`include/notebooks/batch_{step}.py` on local Spark with Delta.",
        )
        for step in BATCH_STEPS
    ]
    steps[0] >> steps[1] >> steps[2]
    return steps


def start_stream_job(settings: Settings, data: PipelineDatasets):
    return LocalStreamJobStartOperator(
        task_id="start_stream_job",
        platform_instance=os.environ.get("PINTEREST_PLATFORM_INSTANCE", "dev"),
        inlets=data.streams,  # the job this task keeps running reads the streams into the stream tables
        outlets=[*data.stream_tables, *data.stream_quarantine],
        doc_md="Start the local streaming job as a supervised platform service (never a second copy).",
        max_active_tis_per_dag=1,  # two runs checking "is it running?" at once could both start it
    )
