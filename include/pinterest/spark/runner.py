"""A warm local Spark: one long-lived driver JVM that runs the batch notebooks, one run after another.

Each ``spark-submit`` started a JVM, loaded Spark, Delta and S3A and compiled Spark's hot code again: on a 2-core
machine about half of a small batch notebook's time (measured: session 9.5 s cold, 1.1 s warm; the analyse
step 49 s cold, 32 s warm). The local platform's ``spark`` service runs this server instead. Its JVM starts once
and warms up on a small Delta job; every run then gets a SparkContext of its own in that JVM, configured as
``build_spark`` configures any session, with the calling Airflow task's OpenLineage identity as its parent (the
listener reads its parent from the SparkContext's configuration, so a context per run keeps each run's lineage
its own). Databricks runs notebooks on a cluster that is already up; this is the local counterpart. Runs are
serial: one writer of silver and gold at a time.

Protocol (HTTP on the platform's bind address, like the other services): ``GET /health``; ``POST /run`` with
``{"notebook": NAME, "app_name": ..., "arguments": [...], "env": {...}}`` answers with the run's output line by
line and ends with the line ``EXIT_MARK <code>``. A client that goes away cancels its run's Spark jobs. The
project's modules are imported afresh for every run, so an edit takes effect at the next run, as with
``spark-submit``. The JVM's own log (Spark's warnings) goes to the service's log file, not to the task log.

``python -m include.pinterest.spark.runner --port N [--notebooks DIR]`` serves; ``run_remote`` is the client
(``python -m include.pinterest.spark.session --submit`` uses it when ``SPARK_RUNNER_URL`` is set).
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import runpy
import select
import socket
import sys
import tempfile
import threading
import traceback
import urllib.error
import urllib.request
from contextlib import redirect_stderr, redirect_stdout
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from include.pinterest.spark.session import PARENT_RUN_CONF, REPO_ROOT

log = logging.getLogger("pinterest.spark.runner")
EXIT_MARK = "__spark_runner_exit__"
NOTEBOOKS = REPO_ROOT / "include" / "notebooks"
# The only variables a run may set: the calling task's OpenLineage identity (everything else is the service's).
RUN_VARIABLES = frozenset(PARENT_RUN_CONF.values())
_APP_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")
_PROJECT_PACKAGE = "include"
_RESOURCES = "use GET /health or POST /run"


class RunRequestError(ValueError):
    """A ``/run`` body that breaks a rule; the message names the field and the rule."""


def parse_run_request(body: bytes, notebooks: Path) -> dict[str, Any]:
    """The checked request: the notebook as a path inside ``notebooks``, the rest as given."""
    try:
        request = json.loads(body)
    except ValueError as exc:
        raise RunRequestError(f"body: must be a JSON object ({exc})") from None
    if not isinstance(request, dict):
        raise RunRequestError("body: must be a JSON object")
    unknown = sorted(set(request) - {"notebook", "app_name", "arguments", "env"})
    if unknown:
        raise RunRequestError(f"field '{unknown[0]}': is not supported")
    name = request.get("notebook")
    if not isinstance(name, str) or Path(name).name != name or not name.endswith(".py"):
        raise RunRequestError("field 'notebook': must be the file name of a .py notebook (no folder)")
    notebook = notebooks / name
    if not notebook.is_file():
        raise RunRequestError(f"field 'notebook': {name!r} is not a notebook in {notebooks}")
    app_name = request.get("app_name")
    if not isinstance(app_name, str) or not _APP_NAME.fullmatch(app_name):
        raise RunRequestError("field 'app_name': must be 1 to 100 of letters, digits, '.', '_' and '-'")
    arguments = request.get("arguments", [])
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise RunRequestError("field 'arguments': must be a list of strings")
    env = request.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise RunRequestError("field 'env': must be an object of string values")
    if refused := sorted(set(env) - RUN_VARIABLES):
        raise RunRequestError(f"field 'env': {refused[0]!r} is not a variable a run may set ({sorted(RUN_VARIABLES)})")
    return {"notebook": notebook, "app_name": app_name, "arguments": arguments, "env": env}


class _ClientStream(io.TextIOBase):
    """The run's output, sent to the client as it is written. While the run lasts, a watcher cancels its Spark jobs
    once the client has gone away (its task was killed or timed out), every second until the run ends."""

    def __init__(self, connection: socket.socket, wfile: Any) -> None:
        self._connection = connection
        self._wfile = wfile
        self._lock = threading.Lock()  # the notebooks print from worker threads too
        self.gone = False
        self.ended = threading.Event()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text and not self.gone:
            try:
                with self._lock:
                    self._wfile.write(text.encode("utf-8", "replace"))
                    self._wfile.flush()
            except OSError:
                self.gone = True
        return len(text)

    def watch(self) -> None:
        """Until the run ends: notice the client closing its side (a readable socket with nothing to read)."""
        while not self.ended.is_set():
            if not self.gone:
                readable, _, _ = select.select([self._connection], [], [], 1.0)
                try:
                    self.gone = bool(readable) and not self._connection.recv(1, socket.MSG_PEEK)
                except OSError:
                    self.gone = True
                continue
            log.warning("the client went away: cancelling the run's Spark jobs")
            _cancel_jobs()
            self.ended.wait(1.0)


def _cancel_jobs() -> None:
    from pyspark import SparkContext

    context = SparkContext._active_spark_context
    if context is not None:
        context.cancelAllJobs()


def _stop_spark() -> None:
    """End the run's SparkContext (the JVM stays), so the next run starts with its own configuration."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    if SparkSession._instantiatedSession is not None:
        SparkSession._instantiatedSession.stop()
    elif SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()


def _forget_project_modules() -> None:
    """Drop the project's modules, so the run imports the code as it is on disk now."""
    for name in [m for m in sys.modules if m == _PROJECT_PACKAGE or m.startswith(f"{_PROJECT_PACKAGE}.")]:
        del sys.modules[name]


def run_notebook(notebook: Path, app_name: str, arguments: list[str], env: dict[str, str], out: io.TextIOBase) -> int:
    """Run one notebook file as ``spark-submit`` would (``__main__``, ``sys.argv``); its exit code."""
    saved_argv = sys.argv
    _clear_run_variables()  # a run never inherits the identity of the run before it
    os.environ.update(env)
    sys.argv = [str(notebook), *arguments]
    code = 0
    try:
        _forget_project_modules()
        with redirect_stdout(out), redirect_stderr(out):
            try:
                runpy.run_path(str(notebook), run_name="__main__")
            except SystemExit as exc:  # argparse's usage errors, an explicit sys.exit
                if exc.code is None or isinstance(exc.code, int):
                    code = exc.code or 0
                else:  # sys.exit("message"): printed, exit code 1, as Python does
                    print(exc.code)
                    code = 1
            except BaseException:
                traceback.print_exc()
                code = 1
    finally:
        try:
            _stop_spark()
        finally:
            sys.argv = saved_argv
            _clear_run_variables()
    log.info("run of %s (%s) ended with exit code %d", notebook.name, app_name, code)
    return code


def _clear_run_variables() -> None:
    for name in RUN_VARIABLES:
        os.environ.pop(name, None)


class SparkRunner:
    """The server's state: one run at a time, the JVM warmed once."""

    def __init__(self, notebooks: Path) -> None:
        self.notebooks = notebooks
        self.lock = threading.Lock()
        self.running: str | None = None
        self.runs = 0
        self.warm = False

    def warm_up(self) -> None:
        """Start the JVM and run Delta's hot paths once (write, merge, read) before the first real run."""
        from delta.tables import DeltaTable

        from include.pinterest.spark.session import build_spark

        with self.lock:
            self.running = "warm-up"
            try:
                spark = build_spark("spark-runner-warm-up", lineage=False)
                with tempfile.TemporaryDirectory(prefix="spark-runner-") as folder:
                    rows = spark.range(100).selectExpr("id", "cast(id as string) as value")
                    rows.write.format("delta").save(folder)
                    table = DeltaTable.forPath(spark, folder).alias("t")
                    table.merge(rows.alias("s"), "t.id = s.id").whenNotMatchedInsertAll().execute()
                    spark.read.format("delta").load(folder).count()
                _stop_spark()
                self.warm = True
                log.info("warm: the JVM is up and Delta's code paths have run once")
            except Exception:
                log.exception("warm-up failed (runs will start the JVM themselves)")
            finally:
                self.running = None

    def health(self) -> dict[str, Any]:
        return {"status": "ok", "warm": self.warm, "running": self.running, "runs": self.runs}

    def run(self, request: dict[str, Any], out: _ClientStream) -> int:
        if self.running:
            out.write(f"spark runner: waiting for the run in progress ({self.running}) to end\n")
        with self.lock:
            self.running = request["app_name"]
            watcher = threading.Thread(target=out.watch, name="client-watch", daemon=True)
            watcher.start()  # only now: a client that left while waiting must not cancel the run before its own
            try:
                return run_notebook(request["notebook"], request["app_name"], request["arguments"], request["env"], out)
            finally:
                out.ended.set()
                self.runs += 1
                self.running = None


def _handler(runner: SparkRunner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/health":
                return self._json(404, {"error": f"no resource {self.path}: {_RESOURCES}"})
            self._json(200, runner.health())

        def do_POST(self) -> None:
            if self.path != "/run":
                return self._json(404, {"error": f"no resource {self.path}: {_RESOURCES}"})
            try:
                request = parse_run_request(
                    self.rfile.read(int(self.headers.get("content-length") or 0)), runner.notebooks
                )
            except RunRequestError as exc:
                return self._json(400, {"error": str(exc)})
            self.send_response(200)
            self.send_header("content-type", "text/plain; charset=utf-8")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            out = _ClientStream(self.connection, self.wfile)
            out.write(f"{EXIT_MARK} {runner.run(request, out)}\n")

        def _json(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return Handler


def run_remote(url: str, notebook: str, app_name: str, arguments: list[str]) -> int | None:
    """Run ``notebook`` on the runner at ``url``, its output on stdout; the exit code, or None when the runner
    cannot be reached (the caller then starts a JVM of its own)."""
    env = {name: os.environ[name] for name in RUN_VARIABLES if os.environ.get(name)}
    body = {"notebook": Path(notebook).name, "app_name": app_name, "arguments": arguments, "env": env}
    request = urllib.request.Request(
        f"{url.rstrip('/')}/run", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        response = urllib.request.urlopen(request)  # no read timeout: the task's execution_timeout bounds a run
    except urllib.error.HTTPError as exc:
        print(f"spark runner refused the run: {json.loads(exc.read()).get('error')}", file=sys.stderr)
        return 2
    except urllib.error.URLError as exc:
        print(f"spark runner not reachable at {url} ({exc.reason}): running in a JVM of its own", file=sys.stderr)
        return None
    with response:
        for raw in response:
            line = raw.decode("utf-8", "replace")
            if line.startswith(EXIT_MARK):
                return int(line.split()[1])
            sys.stdout.write(line)
            sys.stdout.flush()
    print(f"spark runner at {url} closed the connection before the run ended (see its log)", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--notebooks", type=Path, default=NOTEBOOKS, help="the folder of the notebooks it may run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    runner = SparkRunner(args.notebooks.resolve())
    server = ThreadingHTTPServer((args.host, args.port), _handler(runner))
    threading.Thread(target=runner.warm_up, name="warm-up", daemon=True).start()
    log.info("serving notebooks of %s on %s:%d", runner.notebooks, args.host, args.port)
    server.serve_forever()


if __name__ == "__main__":
    main()
