"""The local object store lists like S3: past 1,000 keys, with keys that need URL encoding (``=`` and ``+``, as
the S3 sink's bronze keys have), through boto3, ``S3Hook.list_keys``, the provider's S3KeySensor (poke and
trigger) and the landing sensor (poke and trigger)."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
import pytest

from include.pinterest import airflow_connections as conn

pytestmark = pytest.mark.integration
KEYS = 2_100  # three pages of 1,000


@pytest.fixture(scope="module")
def many_keys(platform_env):
    s3 = boto3.client("s3", endpoint_url=platform_env["S3_ENDPOINT_URL"])
    bucket = f"paging-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    prefix = "topics/pinterest.pin/year=2026/month=12/day=01/"
    keys = [f"{prefix}partition={i % 3}/pinterest.pin+{i % 3}+{i:010d}.json" for i in range(KEYS)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b"{}\n"), keys))
    return s3, bucket, prefix, keys


def test_boto3_pages_through_every_key_once(many_keys):
    s3, bucket, prefix, keys = many_keys
    # botocore asks for encoding-type=url itself (and decodes the keys): the case S3Proxy 3.0 looped on.
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix))
    listed = [item["Key"] for page in pages for item in page["Contents"]]
    assert len(pages) == 3
    assert sorted(listed) == sorted(keys)


def test_s3_hook_lists_every_key(many_keys):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    _, bucket, prefix, keys = many_keys
    assert sorted(S3Hook(aws_conn_id=conn.AWS).list_keys(bucket_name=bucket, prefix=prefix)) == sorted(keys)


def test_the_sensor_finds_a_key_on_the_last_page(many_keys):
    from airflow.providers.amazon.aws.sensors.s3 import S3KeySensor
    from airflow.providers.amazon.aws.triggers.s3 import S3KeyTrigger

    _, bucket, prefix, _ = many_keys
    last = f"{prefix}partition=*/*+{KEYS - 1:010d}.json"  # sorts after every other key of its partition
    sensor = S3KeySensor(
        task_id="landed", bucket_name=bucket, bucket_key=last, wildcard_match=True, aws_conn_id=conn.AWS
    )
    assert sensor.poke(context={})
    trigger = S3KeyTrigger(
        bucket_name=bucket, bucket_key=[last], wildcard_match=True, aws_conn_id=conn.AWS, poke_interval=1
    )

    async def first_event():
        return await asyncio.wait_for(anext(aiter(trigger.run())), timeout=60)

    event = asyncio.run(first_event())
    assert event.payload["status"] == "success", event.payload


def test_the_landing_sensor_finds_the_one_new_object_on_the_last_page(many_keys):
    from pinterest_provider.sensors.s3 import CLOCK_SKEW, S3NewObjectsSensor
    from pinterest_provider.triggers.s3 import S3NewObjectsTrigger

    s3, bucket, prefix, _ = many_keys
    time.sleep(CLOCK_SKEW.total_seconds() + 1)  # every key so far is older than the "run" that starts now
    started = datetime.now(UTC)
    sensor = S3NewObjectsSensor(
        task_id="landed", bucket_name=bucket, prefix=prefix, suffix=".json", aws_conn_id=conn.AWS
    )
    context = {"dag_run": SimpleNamespace(start_date=started)}
    assert not sensor.poke(context)
    s3.put_object(Bucket=bucket, Key=f"{prefix}partition=9/pinterest.pin+9+0000000000.json", Body=b"{}\n")
    assert sensor.poke(context)
    trigger = S3NewObjectsTrigger(
        bucket_name=bucket,
        prefix=prefix,
        since=(started - CLOCK_SKEW).isoformat(),
        suffix=".json",
        aws_conn_id=conn.AWS,
        poll_interval=1,
    )

    async def first_event():
        return await asyncio.wait_for(anext(aiter(trigger.run())), timeout=60)

    event = asyncio.run(first_event())
    assert event.payload == {"status": "success", "key": f"{prefix}partition=9/pinterest.pin+9+0000000000.json"}
