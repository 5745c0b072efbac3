"""`make run`: trigger today's pinterest_pipeline run through the local scheduler, wait, print what happened.

Runs against the user's platform (`make up` started it). The run goes through the real scheduler, executor
and triggerer (not `airflow dags test`), so what you see is what MWAA would do. Afterwards it reads the
platform itself (topics and their offsets, the connector's state, the bronze keys) so the printout does not
depend on the DAG reporting about itself.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import boto3
import httpx
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.settings import TABLES, Settings
from include.pinterest.verification import delta_storage_options
from local_platform.environment import client_env
from local_platform.instance import Instance, instance_for

DAG_ID = "pinterest_pipeline"
RUN_TIMEOUT_S = 3600


def api_client(instance: Instance) -> httpx.Client:
    """An authenticated client for Airflow's REST API (simple auth manager, password from standalone's file)."""
    base = f"http://localhost:{instance.port('airflow')}"
    passwords = json.loads(instance.path("airflow", "simple_auth_manager_passwords.json.generated").read_text())
    token = httpx.post(f"{base}/auth/token", json={"username": "admin", "password": passwords["admin"]}, timeout=30)
    token.raise_for_status()
    return httpx.Client(
        base_url=f"{base}/api/v2", headers={"Authorization": f"Bearer {token.json()['access_token']}"}, timeout=60
    )


@retry(
    retry=retry_if_exception_type(httpx.TransportError),
    wait=wait_exponential(max=20),
    stop=stop_after_attempt(6),
    reraise=True,
)
def _get_json(api: httpx.Client, path: str, **params) -> dict:
    """GET from Airflow's API, retried on timeouts and dropped connections (a busy 2-core machine has them)."""
    response = api.get(path, params=params or None)
    response.raise_for_status()
    return response.json()


def wait_for_dag(api: httpx.Client, timeout_s: float = 180) -> None:
    """The DAG processor parses dags/ on its own schedule; wait until it has, and unpause the DAG."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = api.get(f"/dags/{DAG_ID}")
        if response.status_code == 200:
            if response.json().get("is_paused"):
                api.patch(f"/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
            return
        time.sleep(3)
    raise SystemExit(f"Airflow has not parsed {DAG_ID} after {timeout_s:.0f}s: see `make status` and the airflow log")


def trigger_and_wait(api: httpx.Client, conf: dict) -> dict:
    """Follow today's run when the scheduler already started one (after `make up` it does), else trigger one."""
    active = _get_json(api, f"/dags/{DAG_ID}/dagRuns", state=["queued", "running"])["dag_runs"]
    if active:
        run_id = active[0]["dag_run_id"]
        print(f"Following {DAG_ID} run {run_id}, already started by the scheduler", end="")
    else:
        now = datetime.now(UTC).isoformat()
        run = api.post(
            f"/dags/{DAG_ID}/dagRuns", json={"logical_date": now, "conf": conf, "note": "started by make run"}
        )
        run.raise_for_status()
        run_id = run.json()["dag_run_id"]
        print(f"Triggered {DAG_ID} run {run_id}", end="")
    print(f"; waiting (live in the UI: {str(api.base_url).removesuffix('/api/v2/')})")
    deadline, shown = time.monotonic() + RUN_TIMEOUT_S, {}
    while time.monotonic() < deadline:
        run = _get_json(api, f"/dags/{DAG_ID}/dagRuns/{run_id}")
        for ti in _get_json(api, f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", limit=100)["task_instances"]:
            if (
                ti["state"] in {"success", "failed", "upstream_failed", "skipped"}
                and shown.get(ti["task_id"]) != ti["state"]
            ):
                shown[ti["task_id"]] = ti["state"]
                print(f"  {ti['state']:<15} {ti['task_id']:<45} {ti.get('duration') or 0:6.1f}s")
        if run["state"] in {"success", "failed"}:
            return {
                "run_id": run_id,
                "state": run["state"],
                "start_date": run["start_date"],
                "end_date": run["end_date"],
            }
        time.sleep(3)
    raise SystemExit(f"run {run_id} did not finish within {RUN_TIMEOUT_S}s")


def run_summary(api: httpx.Client, run_id: str) -> dict | None:
    """The verification task's summary (XCom), when the DAG has one."""
    response = api.get(
        f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/verification.publish_summary/xcomEntries/return_value"
    )
    return response.json().get("value") if response.status_code == 200 else None


def describe_platform(settings: Settings, env: dict[str, str], s3) -> None:
    admin = AdminClient({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"]})
    consumer = Consumer({"bootstrap.servers": env["KAFKA_BOOTSTRAP_SERVERS"], "group.id": "make-run-inspector"})
    print("\nKafka topics (records = sum of partition high watermarks):")
    metadata = admin.list_topics(timeout=10).topics
    for topic in settings.topics:
        partitions = metadata[topic].partitions if topic in metadata else {}
        total = sum(consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions)
        print(f"  {topic:<24} {len(partitions)} partitions  {total} records")
    consumer.close()
    status = httpx.get(f"{env['KAFKA_CONNECT_URL']}/connectors/{settings.s3_sink_connector}/status", timeout=10)
    if status.status_code == 200:
        body = status.json()
        tasks = ", ".join(f"task {t['id']} {t['state']}" for t in body["tasks"])
        print(f"\nS3 sink connector: {body['connector']['state']} ({tasks})")
    print(f"\nBronze objects in s3://{settings.bucket}/topics/:")
    paginator = s3.get_paginator("list_objects_v2")
    keys = [
        o["Key"]
        for page in paginator.paginate(Bucket=settings.bucket, Prefix="topics/")
        for o in page.get("Contents", [])
        if not o["Key"].endswith("/")
    ]
    for key in keys[:30]:
        print(f"  {key}")
    if len(keys) > 30:
        print(f"  ... and {len(keys) - 30} more ({len(keys)} in all)")


def describe_lake(settings: Settings, env: dict[str, str], s3) -> None:
    """Silver and gold row counts, the gold tables themselves, the stream tables' lag, the report's address."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    lake, options = Lake.of(settings, "delta-rs"), delta_storage_options(settings)

    def table(uri: str) -> DeltaTable | None:
        try:
            return DeltaTable(uri, storage_options=options)
        except TableNotFoundError:
            return None

    print("\nSilver and stream tables (rows):")
    for uri in [*(lake.silver(t) for t in TABLES), *(lake.stream_table(t) for t in TABLES)]:
        found = table(uri)
        rows = found.to_pyarrow_table(columns=[]).num_rows if found else 0
        print(f"  {uri.removeprefix(lake.root + '/'):<30} {rows}")
    print("\nGold tables:")
    for name in GOLD_TABLES:
        found = table(lake.gold(name))
        if found:
            rows = found.to_pandas()
            print(f"\n  gold/{name} ({len(rows)} rows)")
            print("    " + rows.head(12).to_string(index=False).replace("\n", "\n    "))
    status = Path(env["PINTEREST_STATE_DIR"]) / "stream" / "status"
    if status.is_dir():
        print("\nStreaming job (per stream):")
        for path in sorted(status.glob("*.json")):
            state = json.loads(path.read_text())
            print(
                f"  {path.stem:<5} rows={state.get('rows_in_table')} millis_behind_latest={state.get('millis_behind_latest')} caught_up={state.get('caught_up')} "
                f"processed/s={state.get('processed_rows_per_s')} batch={state.get('last_batch_id')}"
            )
    key = lake.report.removeprefix(lake.root + "/")
    written = s3.list_objects_v2(Bucket=settings.bucket, Prefix=key).get("KeyCount", 0) > 0
    # The local store serves objects without authentication: the URL downloads the page.
    url = f"{settings.s3_endpoint_url}/{settings.bucket}/{key}"
    print(f"\nReport: {f's3://{settings.bucket}/{key} ({url})' if written else '(not written)'}")


def main() -> int:
    instance = instance_for("dev")
    env = client_env(instance)
    os.environ.update(env)
    settings = Settings()
    api = api_client(instance)
    wait_for_dag(api)
    result = trigger_and_wait(api, conf={})
    summary = run_summary(api, result["run_id"])
    if summary:
        print("\nRun summary (verification.publish_summary):")
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    s3 = boto3.client("s3", endpoint_url=env["S3_ENDPOINT_URL"], region_name="us-east-1")
    describe_platform(settings, env, s3)
    describe_lake(settings, env, s3)
    print(f"\nRun {result['run_id']}: {result['state'].upper()}")
    return 0 if result["state"] == "success" else 1
