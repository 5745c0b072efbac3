"""The warm Spark runner: a real server process with its own JVM, running notebooks of a test folder.

One server for the module: runs get a SparkContext each (their own configuration and OpenLineage parent), a
failing notebook fails its run only, a client that goes away cancels its run, bad requests are refused with the
field and the rule, and an unreachable runner lets ``--submit`` fall back to ``spark-submit``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from include.pinterest.spark import runner, session
from include.pinterest.spark.runner import EXIT_MARK, RunRequestError, parse_run_request, run_remote
from tests.conftest import free_port, wait_until

pytestmark = pytest.mark.spark

NOTEBOOKS = {
    "context.py": """
import os
from include.pinterest.spark.session import build_spark
spark = build_spark(os.environ.get("TEST_APP", "runner-test"))
print("rows", spark.range(5).count())
print("parent", spark.conf.get("spark.openlineage.parentRunId", "none"))
print("context", spark.sparkContext.applicationId)
""",
    "fails.py": """
from include.pinterest.spark.session import build_spark
build_spark("runner-test-fails").range(3).count()
raise ValueError("the notebook broke on purpose")
""",
    "slow.py": """
import time
from include.pinterest.spark.session import build_spark
spark = build_spark("runner-test-slow")
print("started", flush=True)
spark.sparkContext.parallelize(range(600), 2).map(lambda x: time.sleep(0.5) or x).count()
print("finished")
""",
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebooks")
    for name, text in NOTEBOOKS.items():
        (folder / name).write_text(text)
    lineage = tmp_path_factory.mktemp("lineage")
    port = free_port()
    env = {**os.environ, "PINTEREST_LINEAGE_DIR": str(lineage), "SPARK_DRIVER_MEMORY": "1g"}
    env.pop("S3_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "include.pinterest.spark.runner", "--port", str(port), "--notebooks", str(folder)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"

    def answers_health() -> bool:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                return json.loads(response.read())["status"] == "ok"
        except OSError:
            return False

    try:
        wait_until(answers_health, timeout_s=60, interval_s=0.5)
    except AssertionError:
        process.kill()
        raise
    yield {"url": url, "folder": folder, "lineage": lineage}
    process.terminate()
    process.wait(30)


def _run(server, notebook: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    body = json.dumps({"notebook": notebook, "app_name": "runner-test", "arguments": [], "env": env or {}}).encode()
    request = urllib.request.Request(f"{server['url']}/run", data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        lines = response.read().decode().splitlines()
    assert lines[-1].startswith(EXIT_MARK), lines[-5:]
    return int(lines[-1].split()[1]), "\n".join(lines[:-1])


def _task_identity(run_id: str) -> dict[str, str]:
    """What an Airflow task passes (the provider's lineage macros), as in include.orchestration.local."""
    return {
        "OPENLINEAGE_PARENT_JOB_NAMESPACE": "default",
        "OPENLINEAGE_PARENT_JOB_NAME": "pinterest_pipeline.batch.clean",
        "OPENLINEAGE_PARENT_RUN_ID": run_id,
        "OPENLINEAGE_ROOT_PARENT_JOB_NAMESPACE": "default",
        "OPENLINEAGE_ROOT_PARENT_JOB_NAME": "pinterest_pipeline",
        "OPENLINEAGE_ROOT_PARENT_RUN_ID": "00000000-0000-0000-0000-000000000000",
    }


def test_each_run_has_its_own_context_and_lineage_parent(server):
    code, first = _run(server, "context.py", _task_identity("11111111-1111-1111-1111-111111111111"))
    assert code == 0, first
    assert "rows 5" in first and "parent 11111111-1111-1111-1111-111111111111" in first
    code, second = _run(server, "context.py", _task_identity("22222222-2222-2222-2222-222222222222"))
    assert code == 0, second
    assert "parent 22222222-2222-2222-2222-222222222222" in second
    contexts = [line for text in (first, second) for line in text.splitlines() if line.startswith("context")]
    assert len(set(contexts)) == 2  # a new SparkContext per run, in the same JVM
    code, third = _run(server, "context.py")
    assert "parent none" in third  # a run without an identity does not inherit the one before it
    events = [json.loads(line) for line in (server["lineage"] / "spark-runner-test.jsonl").read_text().splitlines()]
    parents = {e["run"]["facets"].get("parent", {}).get("run", {}).get("runId") for e in events}
    assert {"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"} <= parents


def test_a_failing_notebook_fails_its_run_only(server):
    code, output = _run(server, "fails.py")
    assert code == 1
    assert "ValueError: the notebook broke on purpose" in output
    code, output = _run(server, "context.py")
    assert code == 0, output


def test_a_client_that_goes_away_cancels_its_run(server):
    body = json.dumps({"notebook": "slow.py", "app_name": "runner-test-slow"}).encode()
    host, port = server["url"].removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /run HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        received = b""
        while b"started" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
    started = time.monotonic()
    code, output = _run(server, "context.py")  # waits for the slow run, which alone would take 150 s
    assert code == 0, output
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"notebook": "../context.py", "app_name": "a"}, "field 'notebook': must be the file name"),
        ({"notebook": "missing.py", "app_name": "a"}, "field 'notebook': 'missing.py' is not a notebook"),
        ({"notebook": "context.py", "app_name": "a b"}, "field 'app_name'"),
        ({"notebook": "context.py", "app_name": "a", "arguments": [1]}, "field 'arguments'"),
        ({"notebook": "context.py", "app_name": "a", "env": {"PATH": "/"}}, "field 'env': 'PATH' is not a variable"),
        ({"notebook": "context.py", "app_name": "a", "extra": 1}, "field 'extra': is not supported"),
    ],
)
def test_a_bad_request_is_refused_with_field_and_rule(tmp_path, body, message):
    (tmp_path / "context.py").write_text("")
    with pytest.raises(RunRequestError, match=message):
        parse_run_request(json.dumps(body).encode(), tmp_path)


def test_the_server_answers_400_naming_the_field(server):
    request = urllib.request.Request(
        f"{server['url']}/run", data=b'{"notebook": "nope.py", "app_name": "a"}', headers={}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 400
    assert "field 'notebook'" in json.loads(refused.value.read())["error"]


def test_submit_falls_back_to_spark_submit_when_no_runner_answers(monkeypatch, capsys):
    monkeypatch.setenv("SPARK_RUNNER_URL", f"http://127.0.0.1:{free_port()}")
    assert run_remote(os.environ["SPARK_RUNNER_URL"], "x.py", "a", []) is None
    executed = []
    monkeypatch.setattr(session.os, "execv", lambda path, args: executed.append(args))
    session.submit("app", str(Path(runner.NOTEBOOKS) / "batch_clean.py"), ["--lake-root", "x"])
    assert executed and executed[0][0].endswith("spark-submit")
    assert "not reachable" in capsys.readouterr().err
