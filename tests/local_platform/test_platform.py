"""The local platform: real services, idempotent start, clear refusals, data that survives a restart."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

from local_platform import processes, services
from local_platform.instance import Instance, PlatformError
from local_platform.service import port_open
from tests.conftest import wait_until

pytestmark = pytest.mark.integration


def _client(service: str, env):
    """A boto3 client of the platform's S3 or Kinesis endpoint (credentials from the platform's environment)."""
    return boto3.client(service, endpoint_url=env[f"{service.upper()}_ENDPOINT_URL"])


def _all_records(kinesis, stream: str) -> list[bytes]:
    data = []
    for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
        iterator = kinesis.get_shard_iterator(
            StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while records := (page := kinesis.get_records(ShardIterator=iterator, Limit=10_000))["Records"]:
            data += [r["Data"] for r in records]
            iterator = page["NextShardIterator"]
    return data


def test_every_service_is_healthy(platform_env, platform_control):
    rows = processes.status(platform_control.instance, services.autostarted("test"))
    assert {row["service"]: row["state"] for row in rows} == {s: "healthy" for s in services.autostarted("test")}
    assert all(Path(row["log"]).exists() for row in rows)


def test_up_twice_is_harmless(platform_env, platform_control):
    before = {s: processes.running_pid(platform_control.instance, s) for s in services.autostarted("test")}
    processes.up(platform_control.instance, services.autostarted("test"))
    after = {s: processes.running_pid(platform_control.instance, s) for s in services.autostarted("test")}
    assert before == after


@pytest.mark.parametrize("service", ["s3", "postgres"])
def test_a_taken_port_is_refused_clearly(platform_env, tmp_path, service):
    # Same ports as the running test platform, another state folder: the ports are taken by someone else.
    other = Instance("test", tmp_path / "state")
    port = other.port(services.get(service).port)
    with pytest.raises(PlatformError, match=rf"port {port} for {service} is taken"):
        processes.start(other, service)


def test_a_missing_jdk_is_refused_clearly(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PlatformError, match="no `java` on PATH: install a JDK 17"):
        processes.check_prerequisites(["kafka"])


def test_objects_and_streams_survive_a_restart(platform_env, platform_control):
    s3 = _client("s3", platform_env)
    bucket = f"restart-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="topics/t/partition=0/t+0+0000000000.json", Body=b'{"ind": 1}\n')
    kinesis = _client("kinesis", platform_env)
    stream = f"restart-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
    kinesis.put_record(StreamName=stream, Data=b'{"ind": 1}', PartitionKey="1")
    for service in ("s3", "kinesis"):
        platform_control.stop(service)
    for service in ("s3", "kinesis"):
        platform_control.start(service)
    body = s3.get_object(Bucket=bucket, Key="topics/t/partition=0/t+0+0000000000.json")["Body"].read()
    assert body == b'{"ind": 1}\n'
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [r["Data"] for r in records] == [b'{"ind": 1}']


def test_the_kinesis_endpoint_keeps_what_it_acknowledged_through_a_kill_9(platform_env, platform_control):
    kinesis = _client("kinesis", platform_env)
    stream = f"durable-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=stream, WaiterConfig={"Delay": 1})
    acknowledged = []
    for batch in range(3):
        records = [{"Data": b'{"ind": %d}' % (batch * 100 + i), "PartitionKey": str(i)} for i in range(100)]
        answer = kinesis.put_records(StreamName=stream, Records=records)
        acknowledged += [
            r["Data"] for r, result in zip(records, answer["Records"], strict=True) if "SequenceNumber" in result
        ]
    platform_control.kill("kinesis")  # right after the last acknowledgement, no time to persist anything more
    platform_control.start("kinesis")
    assert len(acknowledged) == 300
    assert sorted(_all_records(kinesis, stream)) == sorted(acknowledged)


def test_down_leaves_no_process_of_a_stopped_service(platform_env, platform_control):
    instance = platform_control.instance
    groups = [processes.running_pid(instance, "kinesis"), processes.supervisor_pid(instance, "kinesis")]
    assert all(groups)
    platform_control.stop("kinesis")
    assert not instance.path("run", "kinesis.pid").exists()
    assert not any(processes.group_alive(group) for group in groups)  # the service's and its supervisor's
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    assert f"kinesalite.js 127.0.0.1 {instance.port('kinesis')}" not in out
    assert not port_open(instance.port("kinesis"))
    platform_control.start("kinesis")


def test_a_killed_service_comes_back_by_itself_and_status_shows_the_restart(platform_env, platform_control):
    instance = platform_control.instance
    before = processes.running_pid(instance, "connect")
    restarts = processes.status(instance, ["connect"])[0]["restarts"]  # other fault tests may have killed it
    platform_control.kill("connect")  # its whole process group, as a crash would
    wait_until(lambda: (pid := processes.running_pid(instance, "connect")) and pid != before)
    row = wait_until(
        lambda: next((r for r in processes.status(instance, ["connect"]) if r["state"] == "healthy"), None)
    )
    assert row["restarts"] == restarts + 1 and row["last_exit"] == "killed by SIGKILL"
    out = subprocess.run(
        [sys.executable, "-m", "local_platform", "status", "--instance", "test", "--services", "connect"],
        capture_output=True,
        text=True,
    ).stdout
    assert f"restarts {restarts + 1}, last killed by SIGKILL" in out


def test_down_stops_a_service_that_is_being_restarted(platform_env, platform_control):
    instance = platform_control.instance
    platform_control.kill("ingest-api")
    assert processes.supervisor_pid(instance, "ingest-api")  # waiting to restart it
    platform_control.stop("ingest-api")
    time.sleep(3)  # longer than the first backoff: a restart would have happened by now
    assert processes.running_pid(instance, "ingest-api") is None
    assert processes.supervisor_pid(instance, "ingest-api") is None
    assert not port_open(instance.port("ingest-api"))
    platform_control.start("ingest-api")
