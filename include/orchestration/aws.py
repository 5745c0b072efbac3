"""Tasks of the ``aws`` profile: MSK Connect, Databricks jobs. Same factories as ``include.orchestration.local``."""

from __future__ import annotations

from airflow.providers.databricks.operators.databricks import DatabricksCreateJobsOperator, DatabricksRunNowOperator
from airflow.sdk import task

from include.orchestration.datasets import PipelineDatasets
from include.orchestration.params import stage_gate
from include.pinterest import airflow_connections as conn
from include.pinterest.settings import Settings
from pinterest_provider.operators.databricks import DatabricksEnsureJobRunningOperator
from pinterest_provider.operators.msk_connect import MskConnectEnsureConnectorOperator
from pinterest_provider.sensors.msk_connect import MskConnectorRunningSensor


def ensure_connector(settings: Settings, data: PipelineDatasets):
    @task
    def msk_connect_request() -> dict:
        """The CreateConnector body from include/aws/msk-connect/, filled at run time, not parse time."""
        from include.pinterest.connectors import load_msk_connect_request

        return load_msk_connect_request(Settings())

    return MskConnectEnsureConnectorOperator(
        task_id="ensure_s3_sink_connector",
        request=msk_connect_request(),
        aws_conn_id=conn.AWS,
        inlets=data.topics,  # the connector this task defines moves the topics to the bronze prefixes
        outlets=data.bronze,
        doc_md="Create the S3 sink on MSK Connect unless it exists.",
    )


def ensure_jobs(settings: Settings):
    """The batch and streaming Databricks jobs, created or reset by name from include/aws/databricks/jobs.json, so a
    new workspace needs only the connection."""

    @task
    def databricks_job(name: str) -> dict:
        """The job's ``jobs/create`` body, filled at run time from the MWAA startup script's variables."""
        from include.pinterest.databricks_jobs import job_settings

        return job_settings(name, Settings())

    return [
        DatabricksCreateJobsOperator(
            task_id=f"create_{role}_job",
            json=databricks_job.override(task_id=f"{role}_job_settings")(name),
            databricks_conn_id=conn.DATABRICKS,
            doc_md=f"Create or reset the Databricks job `{name}` (idempotent by name).",
        )
        for role, name in (("batch", settings.batch_job), ("stream", settings.stream_job))
    ]


def connector_running(settings: Settings):
    return MskConnectorRunningSensor(
        task_id="s3_sink_running",
        connector_name=settings.s3_sink_connector,
        aws_conn_id=conn.AWS,
        poke_interval=30,
        timeout=1800,
        mode="reschedule",
        doc_md="The MSK Connect connector RUNNING; FAILED fails at once with its state description.",
    )


def batch_jobs(settings: Settings, data: PipelineDatasets):
    return DatabricksRunNowOperator(
        task_id="clean_analyse_report",
        job_name=settings.batch_job,
        databricks_conn_id=conn.DATABRICKS,
        deferrable=True,
        durable=True,
        trigger_rule="none_failed",
        inlets=[*data.bronze, *data.silver],  # its analyse step reads the silver its clean step merged into
        outlets=[*data.silver, *data.quarantine, *data.gold, *data.report],
        max_active_tis_per_dag=1,  # one writer of silver/gold at a time, across runs and backfills
        pre_execute=stage_gate("batch"),
        doc_md="The Databricks job `<prefix>-batch` (include/aws/databricks/jobs.json): clean -> analyse -> report.",
    )


def start_stream_job(settings: Settings, data: PipelineDatasets):
    return DatabricksEnsureJobRunningOperator(
        task_id="start_stream_job",
        job_name=settings.stream_job,
        databricks_conn_id=conn.DATABRICKS,
        inlets=data.streams,  # the job this task keeps running reads the streams into the stream tables
        outlets=[*data.stream_tables, *data.stream_quarantine],
        doc_md="Start the Databricks streaming job unless a run of it is active (never two copies).",
        max_active_tis_per_dag=1,  # two runs checking "is it running?" at once could both start it
    )
