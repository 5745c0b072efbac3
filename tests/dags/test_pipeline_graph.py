"""The exact task graph of pinterest_pipeline, for both profiles (chosen by PINTEREST_PROFILE, not by edits)."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk import Asset

from include.pinterest.lineage import lineage_graph
from include.pinterest.settings import Settings

REPO = Path(__file__).resolve().parents[2]

COMMON = {
    "infrastructure.create_topics": [],
    "infrastructure.create_streams": [],
    "infrastructure.streams_active": ["infrastructure.create_streams"],
    "infrastructure.ensure_bucket": [],
    "health.s3_sink_running": ["infrastructure.ensure_s3_sink_connector", "infrastructure.streams_active"],
    "ingestion.ensure_source": ["health.s3_sink_running"],
    "ingestion.kafka_offsets": ["ingestion.ensure_source"],
    "ingestion.post_batch": ["ingestion.kafka_offsets"],
    "ingestion.post_stream": ["ingestion.kafka_offsets"],
    **{f"landing.bronze_{t}_landed": ["ingestion.post_batch", "ingestion.post_stream"] for t in ("pin", "geo", "user")},
    "streaming.stream_enabled": ["ingestion.post_batch", "ingestion.post_stream"],
    "streaming.start_stream_job": ["streaming.stream_enabled"],
    # Values pass by XComArg, which adds the producing task as a direct upstream (already upstream transitively).
    "streaming.records_arrived": ["streaming.start_stream_job", "ingestion.post_stream"],
    "streaming.stream_tables_caught_up": ["streaming.records_arrived", "ingestion.post_stream"],
    "verification.publish_summary": ["verification.reconcile"],
}
RUN_INPUTS = ["ingestion.kafka_offsets", "ingestion.post_batch", "ingestion.post_stream"]  # reconcile's XComArgs
LANDED = [f"landing.bronze_{t}_landed" for t in ("pin", "geo", "user")]
LOCAL = {
    **COMMON,
    "infrastructure.s3_sink_config": [],
    "infrastructure.ensure_s3_sink_connector": [
        "infrastructure.create_topics",
        "infrastructure.ensure_bucket",
        "infrastructure.s3_sink_config",
    ],
    "batch.clean": LANDED,
    "batch.analyse": ["batch.clean"],
    "batch.report": ["batch.analyse"],
    "verification.reconcile": ["batch.report", "streaming.stream_tables_caught_up", *RUN_INPUTS],
}
AWS = {
    **COMMON,
    "infrastructure.msk_connect_request": [],
    "infrastructure.ensure_s3_sink_connector": [
        "infrastructure.create_topics",
        "infrastructure.ensure_bucket",
        "infrastructure.msk_connect_request",
    ],
    # The Databricks jobs, created or reset by name before anything runs them.
    "infrastructure.batch_job_settings": [],
    "infrastructure.create_batch_job": ["infrastructure.batch_job_settings"],
    "infrastructure.stream_job_settings": [],
    "infrastructure.create_stream_job": ["infrastructure.stream_job_settings"],
    "health.s3_sink_running": [
        "infrastructure.ensure_s3_sink_connector",
        "infrastructure.streams_active",
        "infrastructure.create_batch_job",
        "infrastructure.create_stream_job",
    ],
    "batch.clean_analyse_report": LANDED,
    "verification.reconcile": ["batch.clean_analyse_report", "streaming.stream_tables_caught_up", *RUN_INPUTS],
}


def _dag(monkeypatch, profile):
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("PINTEREST_PROFILE", profile)
    bag = DagBag(dag_folder=str(REPO / "dags" / "pinterest_pipeline.py"))
    assert bag.import_errors == {}
    return bag.dags["pinterest_pipeline"]


@pytest.mark.parametrize(("profile", "graph"), [("local", LOCAL), ("aws", AWS)])
def test_exact_task_graph(monkeypatch, profile, graph):
    dag = _dag(monkeypatch, profile)
    actual = {task_id: sorted(task.upstream_task_ids) for task_id, task in dag.task_dict.items()}
    assert actual == {task_id: sorted(upstream) for task_id, upstream in graph.items()}


def test_aws_profile_uses_provider_operators_deferrable_and_durable(monkeypatch):
    from airflow.providers.databricks.operators.databricks import (
        DatabricksCreateJobsOperator,
        DatabricksRunNowOperator,
    )

    dag = _dag(monkeypatch, "aws")
    assert isinstance(dag.task_dict["infrastructure.create_batch_job"], DatabricksCreateJobsOperator)
    assert isinstance(dag.task_dict["infrastructure.create_stream_job"], DatabricksCreateJobsOperator)
    batch = dag.task_dict["batch.clean_analyse_report"]
    assert isinstance(batch, DatabricksRunNowOperator)
    assert batch.deferrable and batch.durable
    assert dag.task_dict["landing.bronze_pin_landed"].deferrable


def test_schedule_params_and_assets(monkeypatch):
    dag = _dag(monkeypatch, "local")
    assert dag.schedule == "@daily" or str(dag.timetable.summary) == "@daily"
    assert set(dag.params) == {"events", "rate", "stream", "stream_events", "seed", "max_failed_share", "stages"}
    outlets = {asset.uri for task in dag.tasks for asset in task.outlets if isinstance(asset, Asset)}
    assert {"s3://pinterest-data-lake/silver/pin", "s3://pinterest-data-lake/gold/category_by_country"} <= outlets
    undocumented = [task.task_id for task in dag.tasks if not task.doc_md]
    assert undocumented == []
    assert dag.default_args["on_failure_callback"].__name__ == "log_task_failure"


@pytest.mark.parametrize("profile", ["local", "aws"])
def test_every_aws_task_uses_the_pipelines_aws_connection(monkeypatch, profile):
    dag = _dag(monkeypatch, profile)
    used = {task.task_id: task.aws_conn_id for task in dag.tasks if hasattr(task, "aws_conn_id")}
    assert used and set(used.values()) == {"pinterest_aws"}, used


@pytest.mark.parametrize("profile", ["local", "aws"])
def test_the_batch_writers_never_run_twice_at_once_across_runs(monkeypatch, profile):
    """max_active_runs covers scheduled runs only; a backfill beside them must not add a second writer."""
    dag = _dag(monkeypatch, profile)
    writers = [task for task in dag.tasks if task.task_group and task.task_group.group_id == "batch"]
    writers.append(dag.task_dict["streaming.start_stream_job"])
    assert len(writers) > 1 and all(task.max_active_tis_per_dag == 1 for task in writers)


def _declared_lineage(dag) -> list[dict]:
    """Each task's inlets and outlets as the OpenLineage provider translates them, shaped as run events."""
    from airflow.providers.openlineage.extractors.manager import ExtractorManager

    def datasets(items):
        translated = [ExtractorManager.convert_to_ol_dataset(item) for item in items]
        return [{"namespace": d.namespace, "name": d.name} for d in translated if d is not None]

    return [
        {
            "job": {"namespace": "pinterest", "name": t.task_id},
            "run": {},
            "inputs": datasets(t.inlets),
            "outputs": datasets(t.outlets),
        }
        for t in dag.tasks
    ]


@pytest.mark.parametrize("profile", ["local", "aws"])
def test_declared_lineage_connects_topic_bronze_silver_gold_and_the_streams(monkeypatch, profile):
    dag = _dag(monkeypatch, profile)
    events = _declared_lineage(dag)
    graph = lineage_graph(events)
    settings = Settings()  # the names follow the environment (the suite's platform exports its own ports)
    kafka, lake = settings.kafka_bootstrap.split(",")[0], f"s3://{settings.bucket}"
    for table in ("pin", "geo", "user"):
        topic, bronze = f"kafka://{kafka}/pinterest.{table}", f"{lake}/topics/pinterest.{table}"
        assert graph.connects(topic, bronze, f"{lake}/silver/{table}", f"{lake}/gold/category_by_country")
        assert graph.connects(
            f"kinesis://{settings.aws_region}/streaming-pinterest-{table}", f"{lake}/stream/pinterest_{table}_table"
        )
    by_task = {e["job"]["name"]: e for e in events}
    assert {d["name"] for d in by_task["ingestion.post_batch"]["outputs"]} == {
        "pinterest.pin",
        "pinterest.geo",
        "pinterest.user",
    }
    assert len(by_task["verification.reconcile"]["inputs"]) == 12  # topics, bronze, silver, stream tables


def test_the_spark_jobs_get_their_tasks_lineage_identity(monkeypatch):
    dag = _dag(monkeypatch, "local")
    env = dag.task_dict["batch.clean"].env
    assert env["OPENLINEAGE_PARENT_RUN_ID"] == "{{ macros.OpenLineageProviderPlugin.lineage_run_id(task_instance) }}"
    assert "--app-name pinterest-batch-clean" in dag.task_dict["batch.clean"].bash_command
