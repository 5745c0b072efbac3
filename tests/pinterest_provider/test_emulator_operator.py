"""PostEventsOperator and LocalStreamJobStartOperator: thin over the emulator and the platform's CLI."""

from __future__ import annotations

import json
import subprocess
from unittest import mock

import boto3
import pytest
from airflow.sdk.exceptions import AirflowException, AirflowSkipException
from moto import mock_aws

from include.pinterest.emulator import RunSummary
from pinterest_provider.operators.emulator import PostEventsOperator
from pinterest_provider.operators.local_stream import LocalStreamJobStartOperator

BUCKET = "lake"


@pytest.fixture
def connections(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TEST_AWS", json.dumps({"conn_type": "aws", "extra": {"region_name": "us-east-1"}}))
    monkeypatch.setenv(
        "AIRFLOW_CONN_TEST_SOURCE", json.dumps({"conn_type": "generic", "extra": {"url": "sqlite:///s.db"}})
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_TEST_API",
        json.dumps({"conn_type": "http", "host": "api.test", "port": 8082, "schema": "http", "password": "the-key"}),
    )
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield


def _operator(**overrides) -> PostEventsOperator:
    arguments = {
        "task_id": "post_batch",
        "mode": "batch",
        "events": "3",
        "rate": "None",
        "seed": "5",
        "source_conn_id": "test_source",
        "api_conn_id": "test_api",
        "aws_conn_id": "test_aws",
        "bucket": BUCKET,
    }
    return PostEventsOperator(**{**arguments, **overrides})


def _context():
    return {"run_id": "scheduled__2026-12-01T00:00:00+00:00", "ti": mock.Mock()}


def test_posting_writes_the_accepted_ids_to_the_lake_and_returns_a_small_summary(connections):
    summary = RunSummary(mode="batch", sent=3, accepted=3, duration_s=1.0, accepted_inds={3, 1, 2})
    context = _context()
    with mock.patch("include.pinterest.emulator.run", return_value=summary) as run:
        result = _operator().execute(context)
    config = run.call_args.args[0]
    assert (config.target_url, config.api_key, config.events, config.seed, config.rate) == (
        "http://api.test:8082",
        "the-key",
        3,
        5,
        None,
    )
    assert config.source_url == "sqlite:///s.db" and config.track_inds
    assert result["accepted"] == 3 and "accepted_inds" not in result and "the-key" not in json.dumps(result)
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=result["accepted_inds_key"])[
        "Body"
    ]
    assert json.loads(body.read()) == [1, 2, 3]
    assert result["accepted_inds_key"] == "_runs/scheduled__2026-12-01T00_00_00_00_00/accepted-batch.json"
    context["ti"].xcom_push.assert_called_once_with(key="accepted", value=3)


def test_a_run_with_nothing_accepted_fails_with_the_reasons(connections):
    summary = RunSummary(
        mode="batch", sent=3, rejected=3, rejected_reasons=["ind: must be an integer"], accepted_inds=set()
    )
    with (
        mock.patch("include.pinterest.emulator.run", return_value=summary),
        pytest.raises(AirflowException, match="must be an integer"),
    ):
        _operator().execute(_context())


def _lossy(**counts) -> RunSummary:
    return RunSummary(mode="batch", sent=10, accepted=6, duration_s=1.0, accepted_inds=set(range(6)), **counts)


def test_events_lost_to_faults_fail_the_task_after_recording_what_was_accepted(connections):
    summary = _lossy(failed=2, not_sent=2, stopped_early="3 requests in a row gave up (ClientConnectorError)")
    context = _context()
    with (
        mock.patch("include.pinterest.emulator.run", return_value=summary),
        pytest.raises(
            AirflowException, match=r"4 of 10 batch events were not accepted .*2 failed.*2 not sent.*3 requests"
        ),
    ):
        _operator(events="10").execute(context)
    key = "_runs/scheduled__2026-12-01T00_00_00_00_00/accepted-batch.json"
    body = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=key)["Body"]
    assert json.loads(body.read()) == list(range(6))


def test_a_tolerated_share_of_losses_passes_and_shows_in_the_summary(connections):
    with mock.patch("include.pinterest.emulator.run", return_value=_lossy(failed=4)):
        result = _operator(events="10", max_failed_share="0.4").execute(_context())
    assert (result["failed"], result["not_sent"]) == (4, 0)


@pytest.mark.parametrize("enabled", ["False", False, ""])
def test_a_mode_left_out_of_the_params_is_skipped(connections, enabled):
    with mock.patch("include.pinterest.emulator.run") as run, pytest.raises(AirflowSkipException):
        _operator(enabled=enabled).execute(_context())
    run.assert_not_called()


def test_local_stream_start_asks_the_platform_for_its_stream_service():
    done = subprocess.CompletedProcess([], 0, stdout="  stream healthy", stderr="")
    with mock.patch("subprocess.run", return_value=done) as run:
        assert LocalStreamJobStartOperator(task_id="start", platform_instance="test").execute({}) == "running"
    assert run.call_args.args[0][1:] == ["-m", "local_platform", "up", "--instance", "test", "--services", "stream"]
    failed = subprocess.CompletedProcess([], 2, stdout="", stderr="error: port 14568 taken")
    with mock.patch("subprocess.run", return_value=failed), pytest.raises(RuntimeError, match="port 14568 taken"):
        LocalStreamJobStartOperator(task_id="start", platform_instance="test").execute({})
