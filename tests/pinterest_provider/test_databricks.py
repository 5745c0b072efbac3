"""DatabricksEnsureJobRunningOperator against recorded Databricks Jobs API answers."""

from __future__ import annotations

import json
import re

import pytest
import responses

from pinterest_provider.operators.databricks import DatabricksEnsureJobRunningOperator

HOST = "https://dbc-test.cloud.databricks.com"


@pytest.fixture(autouse=True)
def databricks_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_TEST", json.dumps({"conn_type": "databricks", "host": HOST, "password": "dapi-test"})
    )


def _jobs_list(found: bool):
    jobs = [{"job_id": 42, "settings": {"name": "t-stream-to-delta"}}] if found else []
    responses.get(re.compile(f"{HOST}/api/2\\.[12]/jobs/list.*"), json={"jobs": jobs, "has_more": False})


def _operator():
    return DatabricksEnsureJobRunningOperator(
        task_id="start", job_name="t-stream-to-delta", databricks_conn_id="databricks_test"
    )


@responses.activate
def test_starts_the_job_when_no_run_is_active():
    _jobs_list(found=True)
    responses.get(re.compile(f"{HOST}/api/2\\.1/jobs/runs/list.*"), json={"runs": []})
    responses.post(re.compile(f"{HOST}/api/2\\.[12]/jobs/run-now"), json={"run_id": 7})
    responses.get(re.compile(f"{HOST}/api/2\\.[12]/jobs/runs/get.*"), json={"run_page_url": f"{HOST}/#job/42/run/7"})
    assert _operator().execute({}) == 7
    started = [c for c in responses.calls if "run-now" in c.request.url]
    assert len(started) == 1 and json.loads(started[0].request.body) == {"job_id": 42}


@responses.activate
def test_a_second_start_reuses_the_active_run():
    _jobs_list(found=True)
    responses.get(re.compile(f"{HOST}/api/2\\.1/jobs/runs/list.*"), json={"runs": [{"run_id": 5}]})
    responses.get(re.compile(f"{HOST}/api/2\\.[12]/jobs/runs/get.*"), json={"run_page_url": f"{HOST}/#job/42/run/5"})
    assert _operator().execute({}) == 5
    assert not [c for c in responses.calls if "run-now" in c.request.url]


@responses.activate
def test_a_missing_job_is_a_clear_error():
    _jobs_list(found=False)
    with pytest.raises(ValueError, match="no Databricks job named 't-stream-to-delta'"):
        _operator().execute({})
