"""End to end through the real broker and Kinesis: every acknowledged post is there, found by ``ind``.

Uses the test platform (``platform_env``). Topics and streams are created here when missing, so the
tests also run on a platform that does not provision them (creating them is the platform's job).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import boto3
import httpx
import orjson
import pytest
from confluent_kafka import Consumer, KafkaException, TopicPartition

from include.pinterest.emulator import Emulator, EmulatorConfig, RunSummary
from include.pinterest.settings import TABLES, Settings
from include.pinterest.tables import SOURCE_KEYS
from local_platform.provision import ensure_streams, ensure_topics

pytestmark = pytest.mark.integration
KEY_FIELD = SOURCE_KEYS


@pytest.fixture(scope="module")
def pipeline(platform_env: dict[str, str]) -> Settings:
    """Settings of the test platform, with its topics and streams present."""
    settings = Settings()
    ensure_topics(platform_env["KAFKA_BOOTSTRAP_SERVERS"], settings)
    ensure_streams(_kinesis(platform_env), settings)
    return settings


def _kinesis(env: dict[str, str]):
    return boto3.client("kinesis", endpoint_url=env["KINESIS_ENDPOINT_URL"], region_name="us-east-1")


def _end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "ingestion-tests", "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        consumer.close()


def _consume(bootstrap: str, topic: str, start: dict[int, int]) -> Iterator[dict]:
    """Every message of ``topic`` after the ``start`` offsets, up to the current end, as parsed JSON."""
    end = _end_offsets(bootstrap, topic)
    todo = {p: end[p] for p in end if end[p] > start.get(p, 0)}
    if not todo:
        return
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": "ingestion-tests",
            "enable.auto.commit": False,
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(topic, p, start.get(p, 0)) for p in todo])
    deadline = time.monotonic() + 120
    try:
        while todo and time.monotonic() < deadline:
            for message in consumer.consume(10_000, timeout=1.0):
                if message.error():
                    raise KafkaException(message.error())
                if message.offset() >= todo.get(message.partition(), -1):
                    continue
                yield orjson.loads(message.value())
                if message.offset() + 1 >= todo[message.partition()]:
                    del todo[message.partition()]
    finally:
        consumer.close()
    assert not todo, f"could not read {topic} to its end offsets {todo}"


def _inds_in_kafka(env: dict[str, str], pipeline: Settings, starts: dict[str, dict[int, int]]) -> dict[str, set[int]]:
    return {
        table: {
            row[KEY_FIELD[table]]
            for row in _consume(env["KAFKA_BOOTSTRAP_SERVERS"], pipeline.topic(table), starts[table])
        }
        for table in TABLES
    }


def _run(env: dict[str, str], source_url: str, **overrides) -> RunSummary:
    config = EmulatorConfig(
        source_url=source_url,
        target_url=env["INGEST_API_URL"],
        api_key=env["INGEST_API_KEY"],
        track_inds=True,
        **overrides,
    )
    return Emulator(config).run()


def test_batch_run_lands_every_accepted_post_in_kafka(platform_env, pipeline, source_url) -> None:
    bootstrap = platform_env["KAFKA_BOOTSTRAP_SERVERS"]
    starts = {t: _end_offsets(bootstrap, pipeline.topic(t)) for t in TABLES}
    summary = _run(platform_env, source_url, events=3_000, batch_size=250)
    assert (summary.accepted, summary.rejected, summary.failed) == (3_000, 0, 0)
    landed = _inds_in_kafka(platform_env, pipeline, starts)
    for table in TABLES:
        assert summary.accepted_inds <= landed[table], table


def test_invalid_record_is_answered_and_dead_lettered(platform_env, pipeline) -> None:
    dlq = pipeline.dlq_topic
    start = _end_offsets(platform_env["KAFKA_BOOTSTRAP_SERVERS"], dlq)
    marker = f"integration-{time.time_ns()}"
    response = httpx.post(
        f"{platform_env['INGEST_API_URL']}/topics/{pipeline.topic('user')}",
        headers={"x-api-key": platform_env["INGEST_API_KEY"], "content-type": "application/vnd.kafka.json.v2+json"},
        json={
            "records": [
                {
                    "value": {
                        "ind": 1,
                        "first_name": marker,
                        "last_name": "x",
                        "age": "old",
                        "date_joined": "2016-01-01 00:00:00",
                    }
                }
            ]
        },
        timeout=30,
    )
    assert response.status_code == 200
    assert response.json()["offsets"][0]["error_code"] == 42201
    dead = [
        m
        for m in _consume(platform_env["KAFKA_BOOTSTRAP_SERVERS"], dlq, start)
        if m["payload"]["value"]["first_name"] == marker
    ]
    assert len(dead) == 1 and "field 'age'" in dead[0]["reason"]


def test_stream_run_lands_every_accepted_post_in_kinesis(platform_env, pipeline, source_url) -> None:
    kinesis = _kinesis(platform_env)
    started = time.time() - 5
    summary = _run(platform_env, source_url, mode="stream", events=600, batch_size=200, seed=11)
    assert (summary.accepted, summary.failed) == (600, 0)
    for table in TABLES:
        stream = pipeline.stream(table)
        inds: set[int] = set()
        for shard in kinesis.list_shards(StreamName=stream)["Shards"]:
            iterator = kinesis.get_shard_iterator(
                StreamName=stream, ShardId=shard["ShardId"], ShardIteratorType="AT_TIMESTAMP", Timestamp=started
            )["ShardIterator"]
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=10_000)
                inds |= {orjson.loads(r["Data"])[KEY_FIELD[table]] for r in page["Records"]}
                iterator = page.get("NextShardIterator") if page["Records"] else None
        assert summary.accepted_inds <= inds, stream


@pytest.mark.slow
def test_broker_outage_loses_no_acknowledged_post(platform_env, platform_control, pipeline, source_url) -> None:
    """Kafka stops for ~10 s in the middle of a 100,000-event run: the run finishes, nothing acked is lost."""
    bootstrap = platform_env["KAFKA_BOOTSTRAP_SERVERS"]
    starts = {t: _end_offsets(bootstrap, pipeline.topic(t)) for t in TABLES}
    outage: dict[str, float] = {}

    def break_the_broker() -> None:
        time.sleep(3)
        outage["stopped"] = time.monotonic()
        platform_control.stop("kafka")
        time.sleep(10)
        platform_control.start("kafka")
        outage["restarted"] = time.monotonic()

    chaos = threading.Thread(target=break_the_broker)
    chaos.start()
    try:
        summary = _run(
            platform_env,
            source_url,
            events=100_000,
            batch_size=500,
            concurrency=4,
            max_retries=40,
            backoff_cap_s=2.0,
            timeout_s=90,
        )
    finally:
        chaos.join()
    assert outage["restarted"] - outage["stopped"] >= 10
    assert summary.failed == 0 and summary.rejected == 0
    # Requests in flight wait for the broker (librdkafka retries within the delivery timeout); new ones get
    # 503 + Retry-After and are retried by the emulator. Either way the run must span the outage.
    assert summary.accepted == 100_000 and summary.duration_s > 10
    landed = _inds_in_kafka(platform_env, pipeline, starts)
    for table in TABLES:
        assert summary.accepted_inds <= landed[table], table


def test_a_kill_9_of_the_api_mid_run_is_survived_by_retries(platform_env, platform_control, pipeline, source_url):
    """The API's process group is killed 2 s into a run; its supervisor restarts it and the emulator's retries
    carry the run through: every event accepted, the retries counted, every accepted post in Kafka."""
    bootstrap = platform_env["KAFKA_BOOTSTRAP_SERVERS"]
    starts = {t: _end_offsets(bootstrap, pipeline.topic(t)) for t in TABLES}

    def crash_the_api() -> None:
        time.sleep(2)
        platform_control.kill("ingest-api")

    chaos = threading.Thread(target=crash_the_api)
    chaos.start()
    try:
        summary = _run(
            platform_env, source_url, events=20_000, rate=4_000, batch_size=200, max_retries=12, backoff_cap_s=2.0
        )
    finally:
        chaos.join()
    assert (summary.accepted, summary.failed, summary.not_sent) == (20_000, 0, 0)
    assert summary.retried > 0 and summary.stopped_early is None
    landed = _inds_in_kafka(platform_env, pipeline, starts)
    for table in TABLES:
        assert summary.accepted_inds <= landed[table], table
