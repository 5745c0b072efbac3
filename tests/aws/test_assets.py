"""Deployment assets: the MSK Connect request and Databricks jobs have the API's shape, point at files that
exist, carry no credentials, and every ``${placeholder}`` they use is filled by code (the stacks, the MWAA
startup script's deployment facts, the DAG's loaders), so none is left for a person."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AWS = REPO / "include" / "aws"
CONNECTOR = json.loads((AWS / "msk-connect" / "s3-sink-connector.json").read_text())
JOBS = json.loads((AWS / "databricks" / "jobs.json").read_text())
PLACEHOLDER = re.compile(r"\$\{([a-z0-9_]+)\}")
ASSETS = sorted(p for p in AWS.rglob("*") if p.suffix in (".json", ".sh"))
CREDENTIAL_KEY = re.compile(r"(secret|password|passwd|token|access[_.-]?key|credential|private[_.-]?key)", re.I)


def _keys(value, path=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield f"{path}.{key}", key
            yield from _keys(inner, f"{path}.{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from _keys(inner, f"{path}[{i}]")


def test_connector_request_has_the_create_connector_shape():
    required = {
        "capacity",
        "connectorConfiguration",
        "connectorName",
        "kafkaCluster",
        "kafkaClusterClientAuthentication",
        "kafkaClusterEncryptionInTransit",
        "kafkaConnectVersion",
        "plugins",
        "serviceExecutionRoleArn",
    }
    optional = {"connectorDescription", "logDelivery", "tags", "workerConfiguration"}
    assert required <= set(CONNECTOR) <= required | optional
    assert set(CONNECTOR["capacity"]) == {"autoScaling"}
    assert CONNECTOR["kafkaClusterClientAuthentication"] == {"authenticationType": "IAM"}
    assert CONNECTOR["kafkaClusterEncryptionInTransit"] == {"encryptionType": "TLS"}
    assert CONNECTOR["plugins"][0]["customPlugin"]["customPluginArn"]
    assert CONNECTOR["logDelivery"]["workerLogDelivery"]["cloudWatchLogs"]["enabled"] is True
    assert all(isinstance(v, str) for v in CONNECTOR["connectorConfiguration"].values()), "a map of strings"


def test_connector_configuration_lands_bronze_in_the_spec_layout():
    config = CONNECTOR["connectorConfiguration"]
    assert config["connector.class"] == "io.confluent.connect.s3.S3SinkConnector"
    assert config["topics"].split(",") == [f"${{topic_prefix}}.{t}" for t in ("pin", "geo", "user")]
    assert config["topics.dir"] == "topics"
    assert config["partitioner.class"] == "io.confluent.connect.storage.partitioner.DefaultPartitioner"
    assert config["format.class"] == "io.confluent.connect.s3.format.json.JsonFormat"
    assert config["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    assert config["value.converter.schemas.enable"] == "false"
    assert config["errors.deadletterqueue.topic.name"]
    assert CONNECTOR["connectorName"] == "${topic_prefix}-s3-sink"  # the name the DAG and the IAM ARNs use


def test_databricks_jobs_run_the_notebooks_from_git():
    by_name = {job["name"]: job for job in JOBS["jobs"]}
    batch, stream = by_name["${batch_job}"], by_name["${stream_job}"]
    assert [t["task_key"] for t in batch["tasks"]] == ["batch_clean", "batch_analyse", "batch_report"]
    assert batch["tasks"][1]["depends_on"] == [{"task_key": "batch_clean"}]
    assert batch["tasks"][2]["depends_on"] == [{"task_key": "batch_analyse"}]
    assert [t["task_key"] for t in stream["tasks"]] == ["stream_to_delta"]
    assert stream["max_concurrent_runs"] == 1, "a second start must not run a second copy of the stream"
    for job in JOBS["jobs"]:
        assert set(job["git_source"]) == {"git_url", "git_provider", "git_branch"}
        clusters = {c["job_cluster_key"]: c["new_cluster"] for c in job["job_clusters"]}
        for cluster in clusters.values():
            assert re.fullmatch(r"\d+\.\d+\.x-scala2\.1[23]", cluster["spark_version"])
            assert cluster["aws_attributes"]["instance_profile_arn"] == "${databricks_instance_profile_arn}"
            assert set(cluster["autoscale"]) == {"min_workers", "max_workers"}
        for task in job["tasks"]:
            assert task["job_cluster_key"] in clusters
            assert task["notebook_task"]["source"] == "GIT"
            assert {"lake_root", "topic_prefix"} <= set(task["notebook_task"]["base_parameters"])


@pytest.mark.parametrize("notebook", ["batch_clean", "batch_analyse", "batch_report", "stream_to_delta"])
def test_every_referenced_notebook_exists_in_the_repository(notebook):
    paths = [t["notebook_task"]["notebook_path"] for job in JOBS["jobs"] for t in job["tasks"]]
    assert f"include/notebooks/{notebook}" in paths
    assert (REPO / "include" / "notebooks" / f"{notebook}.py").is_file(), f"include/notebooks/{notebook}.py"


@pytest.mark.parametrize("path", [p for p in ASSETS if p.suffix == ".json"], ids=lambda p: p.name)
def test_no_credential_looking_keys(path):
    keys = [where for where, key in _keys(json.loads(path.read_text())) if CREDENTIAL_KEY.search(key)]
    assert keys == []


def test_the_credential_check_can_fail():
    assert [w for w, k in _keys({"a": [{"aws_secret_access_key": "x"}]}) if CREDENTIAL_KEY.search(k)]


def _filled_at_run_time() -> set[str]:
    """Placeholders the loaders fill: from Settings, or from PINTEREST_<NAME> that startup.sh exports."""
    from pinterest_infra.bundle import DEPLOYMENT_FACTS

    from_settings = {"topic_prefix", "lake_bucket", "region", "batch_job", "stream_job"}
    from_facts = {n.removeprefix("PINTEREST_").lower() for n in DEPLOYMENT_FACTS if n.startswith("PINTEREST_")}
    return from_settings | from_facts


def test_every_placeholder_of_the_run_time_assets_is_filled():
    for path in (AWS / "msk-connect" / "s3-sink-connector.json", AWS / "databricks" / "jobs.json"):
        used = set(PLACEHOLDER.findall(path.read_text()))
        assert used - _filled_at_run_time() == set(), f"{path.name}: nothing fills these"


def test_every_placeholder_of_the_policies_is_filled_by_the_stacks(tmp_path):
    from pinterest_infra import config as config_module
    from pinterest_infra import policies
    from tests.infra.conftest import write_config

    values = policies.deployment_values(config_module.load(write_config(tmp_path))) | {"msk_cluster_uuid": "u"}
    for name in policies.ROLE_POLICIES:
        assert "${" not in json.dumps(policies.policy(name, values)), name
        assert "${" not in json.dumps(policies.trust_policy(name, values)), name


def test_no_document_asks_for_hand_substitution():
    readme = (AWS / "README.md").read_text()
    assert "envsubst" not in readme and "sed" not in readme.split()
    assert "make aws-deploy" in readme
