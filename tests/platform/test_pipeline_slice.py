"""The first slice of the pipeline DAG, end to end on the real test platform through `airflow dags test`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from confluent_kafka.admin import AdminClient

from tests.conftest import REPO

pytestmark = pytest.mark.integration
BRONZE_KEY = re.compile(r"^topics/(?P<topic>[^/]+)/partition=(?P<p>\d+)/(?P=topic)\+(?P=p)\+(?P<offset>\d{10})\.json$")


@pytest.fixture(scope="module")
def slice_run(platform_env, tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = {**os.environ, **platform_env, "AIRFLOW_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    run = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", "pinterest_pipeline"],
        env=env, capture_output=True, text=True, cwd=REPO, timeout=600,
    )
    return run


def test_the_dag_run_succeeds(slice_run):
    tail = (slice_run.stdout + slice_run.stderr)[-3000:]
    assert slice_run.returncode == 0, tail
    assert "state=success" in slice_run.stdout + slice_run.stderr, tail


def test_topics_exist(slice_run, platform_env):
    topics = AdminClient({"bootstrap.servers": platform_env["KAFKA_BOOTSTRAP_SERVERS"]}).list_topics(timeout=10).topics
    for table in ("pin", "geo", "user"):
        assert f"pinterest.{table}" in topics
        assert len(topics[f"pinterest.{table}"].partitions) == 3


def test_bronze_objects_have_the_sink_layout_and_the_records(slice_run, platform_env):
    s3 = boto3.client("s3", endpoint_url=platform_env["S3_ENDPOINT_URL"], region_name="us-east-1",
                      aws_access_key_id="local", aws_secret_access_key="local")
    for table, key_field in (("pin", "index"), ("geo", "ind"), ("user", "ind")):
        listing = s3.list_objects_v2(Bucket="pinterest-data-lake", Prefix=f"topics/pinterest.{table}/")
        # S3Proxy's filesystem backend also lists its folders ("partition=1/"); real S3 has no such keys.
        keys = [o["Key"] for o in listing.get("Contents", []) if not o["Key"].endswith("/")]
        assert keys, f"no bronze objects for {table}"
        assert all(BRONZE_KEY.match(k) for k in keys), keys
        inds = set()
        for key in keys:
            for line in s3.get_object(Bucket="pinterest-data-lake", Key=key)["Body"].read().decode().splitlines():
                inds.add(json.loads(line)[key_field])
        assert {0, 1, 2, 3, 4} <= inds
