"""The streaming job: decoding and quarantine rules, then end to end through the real driver process,
from PutRecords into the Kinesis endpoint to Delta rows, with a SIGKILL and a restart in the middle."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from include.pinterest.lake import Lake
from include.pinterest.streaming.job import (
    candidates,
    first_new_records,
    prepare,
    quarantine_rows,
    silver_rows,
)
from include.pinterest.streaming.status import is_caught_up, read_status
from include.pinterest.tables import SOURCE_KEYS
from tests.conftest import REPO
from tests.pinterest.streaming.conftest import DUMMY_AWS, wait_stream_active

TABLES = ("pin", "geo", "user")
KEY = SOURCE_KEYS
KINESIS_SCHEMA = (
    "partitionKey string, data binary, stream string, shardId string, sequenceNumber string, "
    "approximateArrivalTimestamp timestamp"
)


def source_row(table: str, ind: int) -> dict:
    if table == "pin":
        return {
            "index": ind,
            "unique_id": f"u-{ind}",
            "title": "No Title Data Available",
            "description": "d",
            "poster_name": "p",
            "follower_count": "10k",
            "tag_list": "a,b",
            "is_image_or_video": "image",
            "image_src": "https://i.example/x.jpg",
            "downloaded": 1,
            "save_location": "Local save in /data/art",
            "category": "art",
        }
    if table == "geo":
        return {"ind": ind, "timestamp": "2020-08-28T03:52:47", "latitude": 1.5, "longitude": -2.5, "country": "X"}
    return {"ind": ind, "first_name": "Ada", "last_name": "Lovelace", "age": 36, "date_joined": "2016-01-01 00:00:00"}


def bad_payloads(table: str) -> dict[bytes, str]:
    """One payload per quarantine rule, with the reason's expected start."""
    return {
        b"not json at all": "payload is not a JSON object",
        json.dumps(
            {k: v for k, v in source_row(table, 1).items() if k != KEY[table]}
        ).encode(): f"missing key {KEY[table]}",
        json.dumps({**source_row(table, 2), KEY[table]: "two"}).encode(): "payload does not match",
        b"\xff\xfe\x00garbage": "payload is not UTF-8",
    }


@pytest.fixture(scope="module")
def spark():
    from include.pinterest.streaming.driver import build_session

    return build_session()


def kinesis_rows(payloads: list[bytes]) -> list[tuple]:
    now = datetime.now(UTC)
    return [(str(i), p, "s", "shardId-0", str(10**20 + i), now) for i, p in enumerate(payloads)]


@pytest.mark.spark
@pytest.mark.parametrize("table", TABLES)
def test_bad_records_get_a_reason_and_good_ones_are_cleaned_once(spark, table):
    bad = bad_payloads(table)
    # Fields outside the schema (even nested ones) are ignored, not a reason to quarantine.
    extra = {**source_row(table, 8), "extra": [1, {"nested": True}]}
    good = [json.dumps(source_row(table, 7)).encode()] * 2 + [json.dumps(extra).encode()]
    batch = spark.createDataFrame(kinesis_rows(good + list(bad)), KINESIS_SCHEMA).transform(prepare, table)
    quarantined = {r["raw"]: r["reason"] for r in quarantine_rows(batch, table).collect()}
    assert len(quarantined) == len(bad)
    for payload, reason in bad.items():
        raw = (
            payload.decode()
            if not payload.startswith(b"\xff")
            else "base64:" + __import__("base64").b64encode(payload).decode()
        )
        assert quarantined[raw].startswith(reason), (payload, quarantined[raw])
    chosen = first_new_records(candidates(batch), stored=set())
    assert chosen[7] == "shardId-0/" + str(10**20), "the first of the re-sent records is the one kept"
    rows = silver_rows(batch, table, list(chosen.values())).collect()
    assert sorted(r["ind"] for r in rows) == [7, 8], "a re-sent post is kept once"
    if table == "pin":
        assert rows[0]["follower_count"] == 10_000 and rows[0]["title"] is None
        assert rows[0]["save_location"] == "/data/art"


# --- end to end ---------------------------------------------------------------------------------------------


class Driver:
    """The streaming driver as the platform runs it: ``python -m include.pinterest.streaming`` in its own group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen | None = None

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "include.pinterest.streaming", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self) -> None:
        with open(self.log, "a") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "include.pinterest.streaming", "start"],
                cwd=REPO,
                env=self.env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL the whole group (Python driver, JVM, Python workers): a crash, no cleanup at all."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)

    def status(self) -> dict:
        return json.loads(self.cli("status").stdout)

    def wait_rows(self, expected: int, timeout_s: float = 600) -> dict:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"driver exited: {self.log.read_text()[-3000:]}"
            status = self.status()
            if all((status[t].get("rows_in_table") or 0) >= expected for t in TABLES):
                return status
            time.sleep(2)
        raise AssertionError(f"rows did not reach {expected}: {self.status()}\n{self.log.read_text()[-3000:]}")

    def cleanup(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.mark.spark
@pytest.mark.integration
@pytest.mark.slow
def test_kinesis_to_delta_exactly_once_across_a_kill(spark, kinesis, kinesis_endpoint, put_records, tmp_path):
    prefix = f"e2e{uuid.uuid4().hex[:6]}"
    lake, state = tmp_path / "lake", tmp_path / "state"
    env = {
        **os.environ,
        **DUMMY_AWS,
        "PINTEREST_TOPIC_PREFIX": prefix,
        "PINTEREST_LAKE_ROOT": str(lake),
        "PINTEREST_STATE_DIR": str(state),
        "KINESIS_ENDPOINT_URL": kinesis_endpoint,
    }
    env.pop("S3_ENDPOINT_URL", None)
    streams = {t: f"streaming-{prefix}-{t}" for t in TABLES}
    for stream in streams.values():
        kinesis.create_stream(StreamName=stream, ShardCount=2)
    for stream in streams.values():
        wait_stream_active(kinesis, stream)

    def put(first: int, count: int, resend: range, with_bad: bool) -> None:
        for table, stream in streams.items():
            inds = [*range(first, first + count), *resend]
            batch = [(str(i), json.dumps(source_row(table, i)).encode()) for i in inds]
            if with_bad:
                batch += [("bad", payload) for payload in bad_payloads(table)]
            put_records(stream, batch)

    driver = Driver(env, tmp_path / "driver.log")
    try:
        put(0, 100, range(10), with_bad=True)
        driver.start()
        driver.wait_rows(100)
        # Start is idempotent: a second copy finds every stream taken and leaves.
        second = driver.cli("start", timeout=120)
        assert second.returncode == 0 and json.loads(second.stdout.splitlines()[-1])["already_running"] == sorted(
            TABLES
        )
        status = driver.status()
        assert all(status[t]["running"] and status[t]["state"] == "running" for t in TABLES)

        # Crash in the middle of the next records.
        put(100, 100, range(50, 60), with_bad=True)
        time.sleep(3)
        driver.kill()
        put(200, 100, range(150, 160), with_bad=False)

        driver.start()
        driver.wait_rows(300)
        # The DAG's check: every stream read to its tip, its rows committed.
        deadline = time.monotonic() + 120
        while not all(is_caught_up(s) for s in read_status(list(TABLES), root=state).values()):
            assert time.monotonic() < deadline, driver.status()
            time.sleep(1)
        stopped = driver.cli("stop", timeout=300)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert json.loads(stopped.stdout) == {t: "stopped" for t in TABLES}
        driver.process.wait(timeout=120)
        status = driver.status()
        assert all(not status[t]["running"] and status[t]["state"] == "stopped" for t in TABLES)
    finally:
        driver.cleanup()

    paths = Lake(str(lake), prefix)
    for table in TABLES:
        rows = spark.read.format("delta").load(paths.stream_table(table))
        assert rows.count() == 300, table
        assert rows.select("ind").distinct().count() == 300, table
    quarantine = spark.read.format("delta").load(paths.stream_quarantine)
    counts = {r["table"]: r["count"] for r in quarantine.groupBy("table").count().collect()}
    assert counts == {t: 2 * len(bad_payloads(t)) for t in TABLES}, "each bad record quarantined exactly once"
    assert quarantine.where("raw IS NULL OR reason IS NULL OR sequenceNumber IS NULL").count() == 0
    assert sorted(p.name for p in (lake / "_checkpoints" / "stream").iterdir()) == sorted(TABLES)
