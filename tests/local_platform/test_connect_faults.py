"""The S3 sink on the real Connect worker, under bad input and a crash: a record it cannot encode goes to the
dead-letter topic with its reason while bronze keeps flowing; a kill -9 of the worker loses nothing."""

from __future__ import annotations

import json
import time
import uuid

import boto3
import httpx
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from include.pinterest.connectors import load_connector_config
from tests.conftest import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def sink(platform_env):
    """A private topic with the platform's S3 sink on it (its own dead-letter topic), removed afterwards."""
    topic = f"fault-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": platform_env["KAFKA_BOOTSTRAP_SERVERS"]})
    for future in admin.create_topics([NewTopic(topic, 1, 1), NewTopic(f"{topic}.dlq", 1, 1)]).values():
        future.result()
    s3 = boto3.client("s3", endpoint_url=platform_env["S3_ENDPOINT_URL"])
    if "pinterest-data-lake" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket="pinterest-data-lake")
    config = {
        **load_connector_config("local"),
        "tasks.max": "1",
        "topics": topic,
        "flush.size": "100",
        "rotate.schedule.interval.ms": "1000",
        "errors.deadletterqueue.topic.name": f"{topic}.dlq",
    }
    connect = platform_env["KAFKA_CONNECT_URL"]
    httpx.put(f"{connect}/connectors/{topic}/config", json=config, timeout=30).raise_for_status()
    producer = Producer({"bootstrap.servers": platform_env["KAFKA_BOOTSTRAP_SERVERS"], "enable.idempotence": True})
    yield topic, producer, s3
    httpx.delete(f"{connect}/connectors/{topic}", timeout=120)  # a task stopping after a crash can take a while


def _bronze_lines(s3, topic: str) -> list[str]:
    lines = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket="pinterest-data-lake", Prefix=f"topics/{topic}/"):
        for item in page.get("Contents", []):
            try:
                body = s3.get_object(Bucket="pinterest-data-lake", Key=item["Key"])["Body"].read().decode()
            except s3.exceptions.NoSuchKey:  # replaced by the sink's replay between listing and reading
                continue
            lines += body.splitlines()
    return lines


def test_a_record_the_sink_cannot_encode_goes_to_the_dead_letter_topic_with_its_reason(platform_env, sink):
    topic, producer, s3 = sink
    values = [b'{"ind": 1}', b"not json {", b'{"ind": 2}', b"   ", b'{"ind": 3}']
    for value in values:
        producer.produce(topic, value=value, key=b"k")
    assert producer.flush(30) == 0
    assert sorted(wait_until(lambda: len(lines := _bronze_lines(s3, topic)) == 3 and lines)) == [
        '{"ind": 1}',
        '{"ind": 2}',
        '{"ind": 3}',
    ]
    consumer = Consumer(
        {
            "bootstrap.servers": platform_env["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": f"dlq-reader-{topic}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([f"{topic}.dlq"])
    dead = []
    deadline = time.monotonic() + 60
    while len(dead) < 2 and time.monotonic() < deadline:
        if (message := consumer.poll(1)) is not None and not message.error():
            dead.append(message)
    consumer.close()
    assert [m.value() for m in dead] == [b"not json {", b"   "]
    reasons = [dict(m.headers())["__connect.errors.exception.message"].decode() for m in dead]
    assert "not valid JSON" in reasons[0] and "empty or blank" in reasons[1]
    assert all(dict(m.headers())["__connect.errors.topic"].decode() == topic for m in dead)


def test_a_kill_9_of_the_worker_mid_stream_loses_and_duplicates_nothing(platform_env, platform_control, sink):
    topic, producer, s3 = sink
    for i in range(3_000):
        producer.produce(topic, value=json.dumps({"ind": i}).encode(), key=str(i).encode())
        if i == 1_000:
            producer.flush(30)
            wait_until(lambda: _bronze_lines(s3, topic), 60)  # the sink holds work: some written, more coming
            platform_control.kill("connect")
    assert producer.flush(30) == 0
    platform_control.start("connect")  # back by itself (its supervisor): this only waits until it is healthy
    # While the restarted task replays from its last committed offset it rewrites objects, so a listing can catch
    # an old object beside its replacement: the end state must be exact, not every moment on the way there.
    wait_until(lambda: sorted(json.loads(line)["ind"] for line in _bronze_lines(s3, topic)) == list(range(3_000)), 240)
