"""The pipeline page plugin: Airflow's plugin manager registers it (app and external views as the installed
Airflow's models expect), loading it imports no API-server code, and on the test platform's real API server its
routes refuse anonymous and bad tokens and show a run's summary to a logged-in user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import httpx
import pytest

from local_platform import processes
from local_platform.run import DAG_ID, api_client, wait_for_dag
from tests.conftest import REPO

PLUGINS = REPO / "plugins"
PAGE = "/pinterest/"
RUN_JSON = "/pinterest/api/run"
LINEAGE = "/pinterest/lineage"


def test_the_plugin_manager_registers_the_page_and_its_views():
    """In a fresh interpreter: the plugins folder as the API server loads it, validated by Airflow's own models."""
    code = """
import importlib, json, sys
from airflow import plugins_manager
importlib.import_module("pinterest_provider.plugins.pipeline_page")
light = "airflow.api_fastapi.core_api.security" not in sys.modules and "fastapi" not in sys.modules
plugins_manager.ensure_plugins_loaded()
info = next(p for p in plugins_manager.get_plugin_info() if p["name"] == "pinterest_pipeline_page")
from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse
views = PluginResponse.model_validate(info).model_dump()["external_views"]
apps, _ = plugins_manager.get_fastapi_plugins()
print(json.dumps({"errors": plugins_manager.get_import_errors(), "light": light, "views": views,
                  "apps": [(a["url_prefix"], type(a["app"]).__name__) for a in apps]}))
"""
    env = {**os.environ, "AIRFLOW__CORE__PLUGINS_FOLDER": str(PLUGINS), "AIRFLOW__CORE__LAZY_LOAD_PROVIDERS": "True"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    assert found["light"], "loading plugins imported the page's API-server code"
    assert {(v["destination"], v["href"]) for v in found["views"]} == {
        ("nav", PAGE),
        ("dag", f"{PAGE}?dag_id={{DAG_ID}}"),
    }
    assert ["/pinterest", "FastAPI"] in found["apps"]


SUMMARY = {
    "accepted_posts": 321,
    "stages": {
        f"{layer}.{table}": {"posts": 321, "missing_accepted_posts": 0}
        for layer in ("kafka", "bronze", "silver")
        for table in ("pin", "geo", "user")
    },
    "stream": {
        "accepted_posts": 47,
        "stages": {f"stream.{t}": {"posts": 4747, "missing_accepted_posts": 0} for t in ("pin", "geo", "user")},
        "millis_behind_latest": {"pin": 0, "geo": 0, "user": 2500},
    },
    "api": {
        "batch": {
            "sent": 333,
            "accepted": 321,
            "rejected": 12,
            "failed": 0,
            "retried": 9,
            "events_per_s": 876.5,
            "latency_p50_ms": 14.5,
            "latency_p99_ms": 123.4,
        }
    },
}


@pytest.fixture(scope="module")
def served(platform_env, platform_control):
    """The test platform's API server (and DAG processor, so the DAG is known) with one run whose
    ``publish_summary`` XCom is SUMMARY, created through Airflow's REST API; removed again afterwards."""
    instance = platform_control.instance
    components = ["airflow-api", "airflow-dag-processor"]
    processes.up(instance, components)
    api = api_client(instance)
    run_id = f"pipeline_page_test_{uuid.uuid4().hex[:8]}"
    try:
        wait_for_dag(api, timeout_s=600)
        created = api.post(f"/dags/{DAG_ID}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
        assert created.status_code == 200, created.text
        xcom = api.post(
            f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/verification.publish_summary/xcomEntries",
            json={"key": "return_value", "value": SUMMARY},
        )
        assert xcom.status_code == 201, xcom.text
        base = str(api.base_url).removesuffix("/api/v2/").removesuffix("/api/v2")
        yield base, api.headers["Authorization"].removeprefix("Bearer "), run_id
    finally:
        api.delete(f"/dags/{DAG_ID}/dagRuns/{run_id}")
        processes.down(instance, components)


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("path", [PAGE, RUN_JSON, LINEAGE, "/pinterest/api/lineage"])
def test_anonymous_and_forged_requests_are_refused(served, path):
    base, _, _ = served
    assert httpx.get(base + path, timeout=60).status_code == 401
    assert httpx.get(base + path, headers={"Authorization": "Bearer not.a.token"}, timeout=60).status_code == 403


@pytest.mark.integration
@pytest.mark.slow
def test_the_api_server_lists_the_plugin(served):
    base, token, _ = served
    plugins = httpx.get(f"{base}/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}, timeout=60).json()
    page = next(p for p in plugins["plugins"] if p["name"] == "pinterest_pipeline_page")
    assert [a["url_prefix"] for a in page["fastapi_apps"]] == ["/pinterest"]
    assert {v["destination"] for v in page["external_views"]} == {"nav", "dag"}


@pytest.mark.integration
@pytest.mark.slow
def test_a_logged_in_user_sees_the_runs_summary(served):
    base, token, run_id = served
    bearer = {"Authorization": f"Bearer {token}"}
    shown = httpx.get(base + RUN_JSON, params={"run_id": run_id}, headers=bearer, timeout=60)
    assert shown.status_code == 200, shown.text
    assert shown.json()["run"]["run_id"] == run_id and shown.json()["summary"] == SUMMARY
    latest = httpx.get(base + RUN_JSON, headers=bearer, timeout=60).json()
    assert latest["run"]["run_id"] == run_id, "the latest run with a summary is the default"
    # The UI's iframe sends the login cookie, not a header.
    page = httpx.get(base + PAGE, params={"run_id": run_id}, cookies={"_token": token}, timeout=120)
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert run_id in text and "All 321 accepted batch posts reached Kafka, bronze and silver" in text
    for figure in ("333", "321", "876.5", "14.5", "123.4", "4,747", "2500"):
        assert f">{figure}" in text, figure
    assert "<script" not in text
    assert httpx.get(base + RUN_JSON, params={"run_id": "no-such-run"}, headers=bearer, timeout=60).status_code == 404
    lineage = httpx.get(base + LINEAGE, params={"run_id": run_id}, headers=bearer, timeout=60)
    assert lineage.status_code == 200 and f"Lineage of {run_id}" in lineage.text


def test_a_runs_lineage_is_the_task_level_graph_of_the_events_written_while_it_ran(tmp_path, monkeypatch):
    from pinterest_provider.plugins.pipeline_page import run_lineage

    def event(job: str, time: str) -> str:
        topic = {"namespace": "kafka://localhost:9092", "name": "pinterest.pin"}
        return json.dumps(
            {
                "eventType": "COMPLETE",
                "eventTime": time,
                "job": {"namespace": "p", "name": job},
                "run": {"runId": job, "facets": {}},
                "inputs": [topic],
                "outputs": [],
            }
        )

    (tmp_path / "airflow-1.json").write_text(event("before", "2026-11-20T09:59:00Z"))
    (tmp_path / "airflow-2.json").write_text(event("during", "2026-11-20T10:05:00Z"))
    (tmp_path / "airflow-3.json").write_text(event("after", "2026-11-20T11:00:00Z"))
    run = {"run_id": "r", "start_date": "2026-11-20T10:00:00+00:00", "end_date": "2026-11-20T10:30:00+00:00"}
    monkeypatch.delenv("PINTEREST_LINEAGE_DIR", raising=False)
    assert "configured transport" in run_lineage(run)
    monkeypatch.setenv("PINTEREST_LINEAGE_DIR", str(tmp_path))
    assert {n.name for n in run_lineage(run).nodes.values() if n.kind == "job"} == {"during"}
