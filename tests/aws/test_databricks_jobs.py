"""The Databricks jobs as the DAG will create them: filled from Settings and startup.sh's facts, valid for
databricks-bundles' strict typed model (pinned in infra/requirements-tools.txt), nothing lost on the way."""

from __future__ import annotations

import json
import subprocess

import pytest

from include.pinterest.databricks_jobs import job_names, job_settings
from include.pinterest.settings import Settings
from tests.infra.conftest import infra_tool

FACTS = {
    "PINTEREST_GIT_URL": "https://github.com/example-org/pinterest-pipeline",
    "PINTEREST_GIT_PROVIDER": "gitHub",
    "PINTEREST_GIT_BRANCH": "main",
    "PINTEREST_DATABRICKS_INSTANCE_PROFILE_ARN": "arn:aws:iam::123456789012:instance-profile/pinterest-databricks",
}


def test_both_jobs_are_filled_with_no_placeholder_left(monkeypatch):
    monkeypatch.setenv("PINTEREST_TOPIC_PREFIX", "0a1b2c3d")
    monkeypatch.setenv("PINTEREST_BUCKET", "lake-0a1b2c3d")
    settings = Settings()
    assert job_names(settings) == ["0a1b2c3d-batch", "0a1b2c3d-stream-to-delta"]
    for name in job_names(settings):
        body = job_settings(name, settings, FACTS)
        text = json.dumps(body)
        assert "${" not in text and body["name"] == name
        assert "s3://lake-0a1b2c3d" in text and FACTS["PINTEREST_GIT_URL"] in text
        assert "_doc" not in body


def test_a_missing_fact_is_named():
    with pytest.raises(ValueError, match="PINTEREST_DATABRICKS_INSTANCE_PROFILE_ARN"):
        job_settings(job_names()[0], environ={k: v for k, v in FACTS.items() if "INSTANCE" not in k})


def test_an_unknown_job_is_named():
    with pytest.raises(ValueError, match="no Databricks job 'nope'"):
        job_settings("nope", environ=FACTS)


def test_the_bodies_pass_the_strict_typed_model_and_it_can_fail():
    python = infra_tool("python")
    done = subprocess.run(
        [str(python), "-m", "pinterest_infra.databricks_check"], capture_output=True, text=True, timeout=120
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert done.returncode == 0, report
    assert set(report["jobs"]) == set(job_names()) and not any(report["jobs"].values())
    assert "Unexpected field 'max_concurrent_run'" in report["broken_bodies"]["unknown field"]
    assert "task_key" in report["broken_bodies"]["missing task_key"]


def test_the_job_names_are_the_settings_names():
    settings = Settings(topic_prefix="acme")
    assert job_names(settings) == [settings.batch_job, settings.stream_job]
