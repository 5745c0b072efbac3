"""Fault matrix: a real DAG run per platform component, the component's process group killed with SIGKILL while
it holds work, its supervisor left to bring it back, then the stores themselves read -> benchmarks/results/faults.json.

Runs on the `bench` instance (own ports and state) through the real scheduler, as `make run` does. Per scenario:

- a run with batch and stream posts at a fixed rate (``CONF``), so posting lasts long enough to be hit;
- the kill at the moment named in ``killed_at`` (mid-posting, mid-flush, mid-batch, while a sensor is deferred);
- ``recovered_s``: from the kill to the service healthy again (its own health check), no human action;
- after the run: the posts the API acknowledged (the emulator's record of its 200 answers, kept in the lake) are
  looked up in Kafka (from the offsets taken before the run), in bronze (the sink's objects), in silver and in the
  stream tables (Delta, read with delta-rs through the S3 API); ``lost`` counts acknowledged posts missing from
  any of them, ``duplicated_in_*`` the keys held by more than one row.

Two poison inputs ride along with one run: a record the S3 sink cannot encode (must reach the connector's
dead-letter topic with its reason while bronze keeps flowing) and a Kinesis record that is not a row (must reach
the stream quarantine with its reason, once).

Usage: ``make bench BENCH=faults`` (about 40 minutes on a quiet 2-core machine, 70 under load);
``python -m benchmarks.faults --only airflow-triggerer,poison`` runs some again and replaces their entries.
Benchmarks measure; the fault tests that assert are in tests/local_platform and tests/pinterest/ingest.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import boto3
import httpx
from confluent_kafka import Consumer, Producer

from benchmarks.machine import load_average, machine
from include.pinterest.connectors import load_connector_config
from include.pinterest.lake import Lake
from include.pinterest.settings import TABLES, Settings
from include.pinterest.verification import (
    bronze_inds_since,
    delta_storage_options,
    kafka_inds_since,
    partition_ends,
)
from local_platform import processes, run, services
from local_platform.environment import client_env
from local_platform.instance import REPO, Instance, instance_for

RESULT = REPO / "benchmarks" / "results" / "faults.json"
CONF = {"events": 6000, "stream_events": 1500, "rate": 200}  # about 30 s of batch and 8 s of stream posting
RUN_TIMEOUT_S = 1800
MOMENT_TIMEOUT_S = 600


@dataclass(frozen=True)
class Scenario:
    component: str  # the platform service killed
    killed_at: str  # what it held when killed
    watched: str  # the task whose work the kill hits
    ready: Callable[[httpx.Client, str, Instance], bool]  # true once the run is at that point
    delay_s: float = 0.0  # then this long into it
    # A task whose success is the moment to pause the S3 sink until the component is back: with no new bronze
    # objects, the landing sensors defer and wait on the triggerer (they find the objects at once otherwise).
    hold_sink_after: str | None = None


def _task_state(api: httpx.Client, run_id: str, task_id: str) -> str | None:
    return run._get_json(api, f"/dags/{run.DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}").get("state")


def _running(task_id: str):
    return lambda api, run_id, _instance: _task_state(api, run_id, task_id) == "running"


def _deferred(api, run_id, _instance) -> bool:
    return any(_task_state(api, run_id, f"landing.bronze_{t}_landed") == "deferred" for t in TABLES)


def _stream_busy(api, run_id, instance) -> bool:
    """Stream posts arriving while the job's driver runs: its micro-batches hold records."""
    return _running("ingestion.post_stream")(api, run_id, instance) and services.get("stream").healthy(instance)


BATCH, STREAM = "ingestion.post_batch", "ingestion.post_stream"
SCENARIOS = [
    Scenario(
        "connect", "mid-flush: 10 s into batch posting, the sink writing bronze objects", BATCH, _running(BATCH), 10
    ),
    Scenario("ingest-api", "mid-posting: 5 s into batch posting", BATCH, _running(BATCH), 5),
    Scenario(
        "kafka", "mid-posting: 8 s into batch posting (the API producing with acks=all)", BATCH, _running(BATCH), 8
    ),
    Scenario("s3", "mid-flush: 10 s into batch posting, the sink writing bronze objects", BATCH, _running(BATCH), 10),
    Scenario(
        "kinesis", "mid-posting: 2 s into stream posting (PutRecords through the API)", STREAM, _running(STREAM), 2
    ),
    Scenario("stream", "mid-batch: stream posts arriving, the driver's queries writing", STREAM, _stream_busy, 2),
    Scenario(
        "airflow-triggerer",
        "a deferrable landing sensor deferred on its trigger (the S3 sink paused from the health check until the "
        "triggerer is back, so no bronze object is there yet)",
        "landing.bronze_pin_landed",
        _deferred,
        hold_sink_after="health.s3_sink_running",
    ),
    Scenario(
        "airflow-scheduler",
        "mid-posting: 6 s into batch posting (its task processes die with it)",
        BATCH,
        _running(BATCH),
        6,
    ),
]


def _trigger(api: httpx.Client, conf: dict, note: str) -> str:
    response = api.post(
        f"/dags/{run.DAG_ID}/dagRuns",
        json={"logical_date": datetime.now(UTC).isoformat(), "conf": conf, "note": note},
    )
    response.raise_for_status()
    return response.json()["dag_run_id"]


def _wait_run(api: httpx.Client, run_id: str) -> str:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        state = run._get_json(api, f"/dags/{run.DAG_ID}/dagRuns/{run_id}")["state"]
        if state in {"success", "failed"}:
            return state
        time.sleep(5)
    return "timed out"


def _wait_idle(api: httpx.Client) -> None:
    """No run of the DAG active (after `up`, the scheduler starts today's run by itself)."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while run._get_json(api, f"/dags/{run.DAG_ID}/dagRuns", state=["queued", "running"])["dag_runs"]:
        if time.monotonic() > deadline:
            raise TimeoutError("a run of the DAG is still active")
        time.sleep(5)


def _recovered_s(instance: Instance, component: str, killed_pid: int, killed: float) -> float | None:
    """Seconds from the kill until a new process of the component answers its health check."""
    service = services.get(component)
    deadline = killed + 600
    while time.monotonic() < deadline:
        pid = processes.running_pid(instance, component)
        if pid and pid != killed_pid and service.healthy(instance):
            return round(time.monotonic() - killed, 1)
        time.sleep(0.5)
    return None


class Stores:
    """Reads the platform's stores directly (Kafka, the bucket, the Delta tables), not the DAG's summary."""

    def __init__(self, env: dict[str, str]):
        self.settings = Settings()
        self.s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name="us-east-1")
        self.consumer = Consumer(
            {"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"], "group.id": f"fault-matrix-{uuid.uuid4().hex[:6]}"}
        )
        self.lake, self.options = Lake.of(self.settings, "delta-rs"), delta_storage_options(self.settings)

    def offsets(self) -> dict[str, dict[int, int]]:
        topics = self.consumer.list_topics(timeout=30).topics
        return {
            self.settings.topic(t): partition_ends(
                self.consumer, self.settings.topic(t), topics[self.settings.topic(t)].partitions
            )
            for t in TABLES
            if self.settings.topic(t) in topics
        }

    def acknowledged(self, api: httpx.Client, run_id: str, task_id: str) -> set[int]:
        """The posts whose batches the API answered 200 (the emulator keeps their inds in the lake)."""
        response = api.get(
            f"/dags/{run.DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            params={"deserialize": True},
        )
        if response.status_code != 200:
            return set()
        value = response.json()["value"]
        value = json.loads(value) if isinstance(value, str) else value
        key = value.get("accepted_inds_key")
        body = self.s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read() if key else b"[]"
        return set(json.loads(body))

    def delta_keys(self, uri: str) -> Counter:
        from deltalake import DeltaTable
        from deltalake.exceptions import TableNotFoundError

        try:
            table = DeltaTable(uri, storage_options=self.options).to_pyarrow_table(columns=["ind"])
        except TableNotFoundError:
            return Counter()
        return Counter(table.column("ind").to_pylist())

    def check(self, batch: set[int], stream: set[int], start: dict[str, dict[int, int]]) -> dict:
        kafka = kafka_inds_since(self.consumer, self.settings, start)
        bronze = bronze_inds_since(
            lambda prefix: [
                item["Key"]
                for page in self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.settings.bucket, Prefix=prefix
                )
                for item in page.get("Contents", [])
            ],
            lambda key: self.s3.get_object(Bucket=self.settings.bucket, Key=key)["Body"].read().decode(),
            self.settings,
            start,
        )
        silver = {t: self.delta_keys(self.lake.silver(t)) for t in TABLES}
        streamed = {t: self.delta_keys(self.lake.stream_table(t)) for t in TABLES}
        missing = {
            **{f"kafka.{t}": len(batch - kafka[t]) for t in TABLES},
            **{f"bronze.{t}": len(batch - bronze[t]) for t in TABLES},
            **{f"silver.{t}": len(batch - set(silver[t])) for t in TABLES},
            **{f"stream.{t}": len(stream - set(streamed[t])) for t in TABLES},
        }
        return {
            "acknowledged": len(batch) + len(stream),
            "acknowledged_batch": len(batch),
            "acknowledged_stream": len(stream),
            "lost": len(batch - set.intersection(*kafka.values(), *bronze.values(), *map(set, silver.values())))
            + len(stream - set.intersection(*map(set, streamed.values()))),
            "missing_by_stage": {stage: n for stage, n in missing.items() if n},
            "duplicated_in_silver": sum(n - 1 for c in silver.values() for n in c.values() if n > 1),
            "duplicated_in_stream_tables": sum(n - 1 for c in streamed.values() for n in c.values() if n > 1),
        }


def scenario(api: httpx.Client, instance: Instance, stores: Stores, case: Scenario, seed: int) -> dict:
    start = stores.offsets()
    run_id = _trigger(api, {**CONF, "seed": seed}, f"fault matrix: kill -9 {case.component}")
    print(f"\n{case.component}: run {run_id}, waiting for: {case.killed_at}", flush=True)
    deadline = time.monotonic() + MOMENT_TIMEOUT_S
    if case.hold_sink_after:
        while _task_state(api, run_id, case.hold_sink_after) != "success":
            time.sleep(0.3)
        _sink("pause")
    while not case.ready(api, run_id, instance):
        if time.monotonic() > deadline or run._get_json(api, f"/dags/{run.DAG_ID}/dagRuns/{run_id}")["state"] in {
            "success",
            "failed",
        }:
            return {"component": case.component, "killed_at": f"not reached: {case.killed_at}", "run_id": run_id}
        time.sleep(0.3)
    time.sleep(case.delay_s)
    restarts_before = _restarts(instance, case.component)
    killed_pid, killed = processes.kill(instance, case.component), time.monotonic()
    watched_state = _task_state(api, run_id, case.watched) if case.component != "airflow-api" else None
    recovered = _recovered_s(instance, case.component, killed_pid, killed)
    if case.hold_sink_after:
        _sink("resume")
    api = run.api_client(instance)  # a scheduler or API restart may have dropped the client's connections
    state = _wait_run(api, run_id)
    found = stores.check(
        stores.acknowledged(api, run_id, BATCH),
        stores.acknowledged(api, run_id, STREAM),
        start,
    )
    result = {
        "component": case.component,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "killed_at": case.killed_at,
        "watched_task_at_kill": f"{case.watched} {watched_state}",
        "recovered_s": recovered,
        "restarts_seen_in_status": _restarts(instance, case.component) - restarts_before,
        "dag_state": state,
        "run_id": run_id,
        "run_s": round(time.monotonic() - killed, 1),
        **found,
        "load_average_at_end": load_average(),
    }
    print(json.dumps(result))
    return result


def _sink(action: str) -> None:
    """Pause or resume the S3 sink connector (Kafka Connect's REST API): it keeps its offsets either way."""
    name = Settings().s3_sink_connector
    httpx.put(f"{os.environ['KAFKA_CONNECT_URL']}/connectors/{name}/{action}", timeout=30).raise_for_status()


def _restarts(instance: Instance, component: str) -> int:
    return next(row for row in processes.status(instance, [component]))["restarts"]


def poison(api: httpx.Client, instance: Instance, stores: Stores, env: dict[str, str], seed: int) -> dict:
    """A record the sink cannot encode and a Kinesis record that is not a row, sent during a normal run."""
    settings = stores.settings
    marker = f"poison-{uuid.uuid4().hex[:8]}"
    start = stores.offsets()
    run_id = _trigger(api, {**CONF, "seed": seed}, "fault matrix: poison inputs")
    _wait_for(lambda: _running(BATCH)(api, run_id, instance))
    producer = Producer({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"]})
    producer.produce(settings.topic("pin"), value=f"not json {{ {marker}".encode(), key=marker.encode())
    producer.flush(30)
    kinesis = boto3.client("kinesis", endpoint_url=env["KINESIS_ENDPOINT_URL"], region_name="us-east-1")
    kinesis.put_record(StreamName=settings.stream("pin"), Data=f"not a row {marker}".encode(), PartitionKey=marker)
    state = _wait_run(api, run_id)
    found = stores.check(
        stores.acknowledged(api, run_id, BATCH),
        stores.acknowledged(api, run_id, STREAM),
        start,
    )
    dead_letter_topic = load_connector_config("local", settings)["errors.deadletterqueue.topic.name"]
    dead = _dead_letters(env, dead_letter_topic, marker)
    quarantined = _quarantined(stores, marker)
    result = {
        "component": "poison inputs",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "killed_at": "none: one undecodable record in the pin topic and one non-row record in the pin stream",
        "dag_state": state,
        "run_id": run_id,
        **found,
        "sink_dead_letters": dead,
        "stream_quarantined": quarantined,
        "load_average_at_end": load_average(),
    }
    print(json.dumps(result))
    return result


def _wait_for(condition: Callable[[], bool], timeout_s: float = MOMENT_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("not reached")
        time.sleep(0.5)


def _dead_letters(env: dict[str, str], topic: str, marker: str) -> list[dict]:
    consumer = Consumer(
        {
            "bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"],
            "group.id": f"fault-matrix-dlq-{marker}",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    found, deadline = [], time.monotonic() + 120
    while not found and time.monotonic() < deadline:
        for message in consumer.consume(500, timeout=1.0):
            if not message.error() and marker.encode() in (message.value() or b""):
                headers = {k: v.decode() for k, v in message.headers() or []}
                found.append({"topic": topic, "reason": headers.get("__connect.errors.exception.message")})
    consumer.close()
    return found


def _quarantined(stores: Stores, marker: str) -> list[dict]:
    from deltalake import DeltaTable

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        rows = (
            DeltaTable(stores.lake.stream_quarantine, storage_options=stores.options)
            .to_pyarrow_table(columns=["raw", "reason"])
            .to_pylist()
        )
        found = [{"reason": row["reason"]} for row in rows if marker in (row["raw"] or "")]
        if found:
            return found
        time.sleep(5)
    return []


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated components (and/or 'poison') to run again; their entries in faults.json are replaced",
    )
    only = {c for c in parser.parse_args(argv).only.split(",") if c}
    chosen = [c for c in SCENARIOS if not only or c.component in only]
    instance = instance_for("bench")
    processes.up(instance, services.autostarted("bench"))
    env = client_env(instance)
    os.environ.update(env)
    results, began = [], datetime.now(UTC)
    load_at_start = load_average()
    try:
        api = run.api_client(instance)
        run.wait_for_dag(api)
        _wait_idle(api)  # today's scheduled run warms everything up: source, topics, connector, stream job
        # The stream scenario kills a running job: a first run starts it (the DAG keeps it running after).
        if any(c.component == "stream" for c in chosen) and not services.get("stream").healthy(instance):
            run_id = _trigger(api, CONF, "fault matrix: warm-up")
            _wait_run(api, run_id)
        stores = Stores(env)
        for case in chosen:
            results.append(scenario(api, instance, stores, case, seed=100 + SCENARIOS.index(case)))
            api = run.api_client(instance)
        if not only or "poison" in only:
            results.append(poison(api, instance, stores, env, seed=200))
    finally:
        processes.down(instance, list(services.SERVICES))
    run_record = {"began": began.isoformat(timespec="seconds"), "load_average_at_start": load_at_start}
    header = {"machine": machine(), "whole_matrix": run_record, "reruns": []}
    if only and RESULT.exists():  # keep the other scenarios' entries, in the matrix's order, and say what ran again
        previous = json.loads(RESULT.read_text())
        kept = {r["component"]: r for r in previous["scenarios"]}
        results = list({**kept, **{r["component"]: r for r in results}}.values())
        header = {key: previous[key] for key in header}
        header["reruns"] = [*previous["reruns"], {**run_record, "components": sorted(only)}]
    result = {
        "what": "kill -9 of each platform component's process group during a real DAG run; the stores read after it",
        **header,
        "conf": CONF,
        "goal": "every component: lost 0, duplicated 0, dag_state success, no human action",
        "met": all(
            r.get("lost") == 0
            and r.get("duplicated_in_silver") == 0
            and r.get("duplicated_in_stream_tables") == 0
            and r.get("dag_state") == "success"
            for r in results
        ),
        "scenarios": results,
    }
    RESULT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
