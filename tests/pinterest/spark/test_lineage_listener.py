"""The OpenLineage Spark listener on our Spark 4.1 + Delta: a tiny Delta write in a session of its own (the
listener is a static setting, so not the suite's shared session) reports the table as an output dataset, as
a child of the Airflow run named in the OPENLINEAGE_PARENT_* variables."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest

pytestmark = pytest.mark.spark

WRITE_DELTA = """
import sys
from include.pinterest.spark.session import build_spark

spark = build_spark("lineage-smoke")
spark.range(3).write.format("delta").mode("overwrite").save(sys.argv[1])
spark.stop()
"""


def test_a_delta_write_is_reported_with_its_output_and_parent(tmp_path):
    table = tmp_path / "lake" / "silver" / "pin"
    lineage = tmp_path / "lineage"
    lineage.mkdir()
    parent_run = str(uuid.uuid4())
    env = {
        **os.environ,
        "PINTEREST_LINEAGE_DIR": str(lineage),
        "OPENLINEAGE_PARENT_JOB_NAMESPACE": "pinterest",
        "OPENLINEAGE_PARENT_JOB_NAME": "pinterest_pipeline.batch.clean",
        "OPENLINEAGE_PARENT_RUN_ID": parent_run,
    }
    env.pop("S3_ENDPOINT_URL", None)  # a file: lake, no object store
    done = subprocess.run(
        [sys.executable, "-c", WRITE_DELTA, f"file://{table}"], env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]

    events = [json.loads(line) for line in (lineage / "spark-lineage-smoke.jsonl").read_text().splitlines()]
    completed = [e for e in events if e["eventType"] == "COMPLETE"]
    outputs = {(d["namespace"], d["name"]) for e in completed for d in e.get("outputs", [])}
    assert ("file", str(table)) in outputs, outputs
    parents = {e["run"]["facets"].get("parent", {}).get("run", {}).get("runId") for e in completed}
    assert parent_run in parents


def test_the_streaming_job_has_no_listener(monkeypatch, tmp_path):
    """Its micro-batches (several a second) would each write events to files that are never rotated."""
    from include.pinterest.spark.session import local_conf

    monkeypatch.setenv("PINTEREST_LINEAGE_DIR", str(tmp_path))
    assert "OpenLineageSparkListener" in local_conf("batch-clean")["spark.extraListeners"]
    assert "spark.extraListeners" not in local_conf("pinterest-streaming", lineage=False)
