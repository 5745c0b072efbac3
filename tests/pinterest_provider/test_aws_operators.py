"""Kinesis and MSK Connect operators and sensors: moto for Kinesis, botocore's Stubber (recorded answers) for
MSK Connect, which moto does not serve."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from airflow.sdk.exceptions import AirflowFailException
from botocore.stub import Stubber
from moto import mock_aws

from pinterest_provider.hooks.kinesis import KinesisStreamsHook
from pinterest_provider.hooks.msk_connect import MskConnectHook
from pinterest_provider.operators.kinesis import KinesisCreateStreamsOperator
from pinterest_provider.operators.msk_connect import MskConnectEnsureConnectorOperator
from pinterest_provider.sensors.kinesis import KinesisRecordsArrivedSensor, KinesisStreamsActiveSensor
from pinterest_provider.sensors.msk_connect import MskConnectorRunningSensor

STREAMS = ["streaming-t-pin", "streaming-t-geo"]


@pytest.fixture
def aws(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TEST_AWS", json.dumps({"conn_type": "aws", "extra": {"region_name": "us-east-1"}}))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    with mock_aws():
        yield


def test_create_streams_is_idempotent(aws):
    operator = KinesisCreateStreamsOperator(task_id="streams", stream_names=STREAMS, aws_conn_id="test_aws")
    assert operator.execute({}) == {name: "created" for name in STREAMS}
    assert operator.execute({}) == {name: "exists" for name in STREAMS}


def test_streams_active_sensor(aws):
    KinesisCreateStreamsOperator(task_id="streams", stream_names=STREAMS, aws_conn_id="test_aws").execute({})
    sensor = KinesisStreamsActiveSensor(task_id="active", stream_names=STREAMS, aws_conn_id="test_aws", timeout=60)
    assert sensor.poke({}) is True
    missing = KinesisStreamsActiveSensor(task_id="active", stream_names=["nope"], aws_conn_id="test_aws", timeout=60)
    with pytest.raises(AirflowFailException, match="nope"):
        missing.poke({})


def test_records_arrived_counts_records_since_a_time(aws):
    KinesisCreateStreamsOperator(
        task_id="streams", stream_names=STREAMS, aws_conn_id="test_aws", shard_count=2
    ).execute({})
    client = boto3.client("kinesis", region_name="us-east-1")
    since = datetime.now(UTC) - timedelta(seconds=5)
    for i in range(7):
        client.put_record(StreamName=STREAMS[0], Data=json.dumps({"ind": i}).encode(), PartitionKey=str(i))
    assert KinesisStreamsHook(aws_conn_id="test_aws").count_records_since(STREAMS[0], since) == 7
    sensor = KinesisRecordsArrivedSensor(
        task_id="arrived",
        stream_names=STREAMS,
        min_records="7",
        since=since.isoformat(),
        aws_conn_id="test_aws",
        timeout=60,
    )
    assert sensor.poke({}) is False  # the second stream has none yet
    for i in range(7):
        client.put_record(StreamName=STREAMS[1], Data=b"{}", PartitionKey=str(i))
    assert sensor.poke({}) is True


def _stubbed_msk_connect(monkeypatch, answers):
    """MskConnectHook whose client answers from ``answers``: (operation, response, expected params)."""
    client = boto3.client("kafkaconnect", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for operation, response, params in answers:
        stubber.add_response(operation, response, params)
    stubber.activate()
    monkeypatch.setattr(MskConnectHook, "conn", property(lambda self: client))
    return stubber


REQUEST = {"connectorName": "t-s3-sink", "capacity": {"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}}}
LISTED = {
    "connectors": [
        {"connectorName": "t-s3-sink", "connectorArn": "arn:aws:kafkaconnect:us-east-1:1:connector/t-s3-sink/x"}
    ]
}
ARN = LISTED["connectors"][0]["connectorArn"]


def test_msk_connect_creates_the_connector_from_the_repository_definition(monkeypatch):
    """The real include/aws/msk-connect definition, filled in, passes botocore's CreateConnector validation."""
    from include.pinterest.connectors import load_msk_connect_request
    from include.pinterest.settings import Settings

    for name in (
        "msk_bootstrap_servers_iam",
        "subnet_id_a",
        "subnet_id_b",
        "security_group_id",
        "account_id",
        "s3_sink_custom_plugin_arn",
        "connector_role_name",
        "connector_log_group",
    ):
        monkeypatch.setenv(
            f"PINTEREST_{name.upper()}",
            f"arn:aws:kafkaconnect:us-east-1:1:custom-plugin/p/{name}"
            if name == "s3_sink_custom_plugin_arn"
            else f"value-{name}",
        )
    request = load_msk_connect_request(Settings(topic_prefix="t"))
    assert request["connectorName"] == "t-s3-sink"
    assert request["connectorConfiguration"]["topics"] == "t.pin,t.geo,t.user"
    stubber = _stubbed_msk_connect(
        monkeypatch,
        [
            ("list_connectors", {"connectors": []}, {"connectorNamePrefix": "t-s3-sink"}),
            (
                "create_connector",
                {"connectorArn": ARN, "connectorName": "t-s3-sink", "connectorState": "CREATING"},
                request,
            ),
        ],
    )
    assert (
        MskConnectEnsureConnectorOperator(task_id="ensure", request=request, aws_conn_id=None).execute({}) == "created"
    )
    stubber.assert_no_pending_responses()


def test_msk_connect_request_names_missing_variables(monkeypatch):
    from include.pinterest.connectors import load_msk_connect_request

    monkeypatch.delenv("PINTEREST_SUBNET_ID_A", raising=False)
    with pytest.raises(ValueError, match="PINTEREST_SUBNET_ID_A"):
        load_msk_connect_request()


def test_msk_connect_leaves_an_existing_connector(monkeypatch):
    stubber = _stubbed_msk_connect(
        monkeypatch,
        [
            ("list_connectors", LISTED, {"connectorNamePrefix": "t-s3-sink"}),
            (
                "describe_connector",
                {"connectorState": "RUNNING", "currentVersion": "1", "capacity": REQUEST["capacity"]},
                {"connectorArn": ARN},
            ),
        ],
    )
    assert MskConnectEnsureConnectorOperator(task_id="e", request=REQUEST, aws_conn_id=None).execute({}) == "unchanged"
    stubber.assert_no_pending_responses()


def test_msk_connector_sensor_fails_at_once_when_failed(monkeypatch):
    _stubbed_msk_connect(
        monkeypatch,
        [
            ("list_connectors", LISTED, {"connectorNamePrefix": "t-s3-sink"}),
            (
                "describe_connector",
                {
                    "connectorState": "FAILED",
                    "stateDescription": {"code": "AccessDenied", "message": "s3:PutObject denied"},
                },
                {"connectorArn": ARN},
            ),
        ],
    )
    sensor = MskConnectorRunningSensor(task_id="running", connector_name="t-s3-sink", aws_conn_id=None, timeout=60)
    with pytest.raises(AirflowFailException, match="FAILED: AccessDenied s3:PutObject denied"):
        sensor.poke({})
