"""Fixtures of the streaming tests: a private Kinesis endpoint (kinesalite in memory, its own port and process
group) and clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import uuid

import pytest

from local_platform.instance import PlatformError
from local_platform.services import kinesis as kinesis_service
from tests.conftest import free_port

DUMMY_AWS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def wait_for_port(port: int, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port} after {timeout_s} s")


@pytest.fixture(scope="session")
def kinesis_endpoint(tmp_path_factory):
    """URL of an in-memory endpoint started for this test session only, stopped with its whole process group."""
    try:
        kinesis_service.require_installed()
    except PlatformError as missing:
        pytest.skip(str(missing))
    port = free_port()
    with open(tmp_path_factory.mktemp("kinesis") / "kinesis.log", "w") as log:
        process = subprocess.Popen(
            kinesis_service.endpoint_command(port),
            env={**os.environ, **kinesis_service.endpoint_environment()},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@pytest.fixture(scope="session")
def kinesis(kinesis_endpoint):
    import boto3

    return boto3.client(
        "kinesis",
        endpoint_url=kinesis_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def wait_stream_active(kinesis, name: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
        if summary["StreamStatus"] == "ACTIVE":
            return
        time.sleep(0.1)
    raise TimeoutError(f"stream {name} is not ACTIVE after {timeout_s} s")


@pytest.fixture
def make_stream(kinesis):
    """Create a uniquely named stream with ``shards`` shards and wait until it is ACTIVE."""

    def make(shards: int = 1, name: str | None = None) -> str:
        name = name or f"test-{uuid.uuid4().hex[:10]}"
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        wait_stream_active(kinesis, name)
        return name

    return make


@pytest.fixture
def put_records(kinesis):
    """PutRecords of ``(partition key, data)`` pairs, resending what Kinesis reports as failed."""

    def put(stream: str, records: list[tuple[str, bytes]]) -> None:
        put_all(kinesis, stream, records)

    return put


def put_all(kinesis, stream: str, records: list[tuple[str, bytes]]) -> None:
    for start in range(0, len(records), 500):
        pending = [{"PartitionKey": key, "Data": data} for key, data in records[start : start + 500]]
        for _ in range(10):
            response = kinesis.put_records(StreamName=stream, Records=pending)
            pending = [r for r, result in zip(pending, response["Records"], strict=True) if "ErrorCode" in result]
            if not pending:
                break
            time.sleep(0.2)
        assert not pending, f"{len(pending)} records could not be put into {stream}"
