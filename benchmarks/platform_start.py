"""Platform benchmark: start time cold and warm, and DAG parse time per file -> benchmarks/results/platform.json.

Cold = a new state folder (Kafka storage formatted, Airflow's database migrated, nothing persisted yet) with
the caches (venv, jars, npm) already installed; warm = the same state folder started again after `down`.
Runs on the `bench` instance (its own ports and .state/bench), so it never touches the user's platform.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from benchmarks.machine import load_average, machine
from local_platform import processes, services
from local_platform.environment import client_env
from local_platform.instance import REPO, instance_for

PARSE_PROBE = """
import runpy, time
started = time.perf_counter()
import airflow.sdk
sdk_s = time.perf_counter() - started
started = time.perf_counter()
runpy.run_path({path!r}, run_name="dag_under_test")
print("PARSE_TIMES", sdk_s, time.perf_counter() - started)
"""


def start_times() -> dict[str, float]:
    instance = instance_for("bench")
    names = services.autostarted("bench")
    processes.down(instance, names)
    shutil.rmtree(instance.state, ignore_errors=True)
    try:
        began = time.monotonic()
        processes.up(instance, names)
        cold = time.monotonic() - began
        processes.down(instance, names)
        began = time.monotonic()
        processes.up(instance, names)
        warm = time.monotonic() - began
    finally:
        processes.down(instance, names)
        shutil.rmtree(instance.state, ignore_errors=True)
    return {"start_cold_s": round(cold, 1), "start_warm_s": round(warm, 1)}


def dag_parse_times(repeats: int = 3) -> dict[str, dict[str, float]]:
    """Each DAG file in a fresh interpreter: the file's own time, after `import airflow.sdk` (reported too)."""
    env = {**os.environ, **client_env(instance_for("bench"))}
    results = {}
    for path in sorted((REPO / "dags").glob("*.py")):
        probe = PARSE_PROBE.format(path=str(path))
        runs = []
        for _ in range(repeats):
            out = subprocess.run(
                [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
            ).stdout
            line = next(row for row in out.splitlines() if row.startswith("PARSE_TIMES "))  # Airflow logs to stdout too
            runs.append(tuple(map(float, line.split()[1:])))
        results[path.name] = {
            "file_s": round(min(r[1] for r in runs), 3),
            "airflow_sdk_import_s": round(min(r[0] for r in runs), 3),
        }
    return results


def main(argv: list[str] | None = None) -> dict:
    load_at_start = load_average()
    result = {
        **start_times(),
        "dag_parse_s": dag_parse_times(),
        "services": services.autostarted("bench"),
    }
    result["machine"] = {**machine(), "load_average_at_start": load_at_start, "load_average_at_end": load_average()}
    out = REPO / "benchmarks" / "results" / "platform.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
