"""The pipeline's datasets, declared as the tasks' inlets and outlets: the OpenLineage provider reports them as
each task's inputs and outputs, and Airflow records asset events for the outlets.

Named by OpenLineage's naming spec: a Kafka topic is ``kafka://<first bootstrap host:port>/<topic>``, a lake
object or Delta table ``s3://<bucket>/<key>`` (Assets, which the Kafka and Amazon providers translate). Kinesis has
no Asset scheme and no entry in the spec: its streams are OpenLineage datasets in the namespace
``kinesis://<region>``, which the provider passes through as they are. Built from ``Settings`` alone, so the DAG
file does no I/O at parse time.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow.sdk import Asset
from openlineage.client.event_v2 import Dataset

from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.settings import TABLES, Settings


@dataclass(frozen=True)
class PipelineDatasets:
    """Every dataset a task of the pipeline reads or writes, one list per layer."""

    topics: list[Asset]
    bronze: list[Asset]
    silver: list[Asset]
    quarantine: list[Asset]  # the records cleaning set aside
    gold: list[Asset]
    report: list[Asset]
    streams: list[Dataset]
    stream_tables: list[Asset]
    stream_quarantine: list[Asset]

    @classmethod
    def of(cls, settings: Settings) -> PipelineDatasets:
        lake = Lake.of(settings, "delta-rs")
        kafka = settings.kafka_bootstrap.split(",")[0]
        return cls(
            topics=[Asset(f"kafka://{kafka}/{topic}") for topic in settings.topics],
            bronze=[Asset(lake.bronze_dir(table)) for table in TABLES],
            silver=[Asset(uri) for uri in lake.silver_tables.values()],
            quarantine=[Asset(lake.quarantine)],
            gold=[Asset(lake.gold(name)) for name in GOLD_TABLES],
            report=[Asset(lake.report)],
            streams=[Dataset(namespace=f"kinesis://{settings.aws_region}", name=s) for s in settings.streams],
            stream_tables=[Asset(uri) for uri in lake.stream_tables.values()],
            stream_quarantine=[Asset(lake.stream_quarantine)],
        )
