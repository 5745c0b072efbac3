"""`make run` wall time on a warm machine, split by stage, and the scheduler's delay between tasks
-> benchmarks/results/run.json.

Runs on the `bench` instance (own ports and state): the platform is started first (not timed, see
platform.json; caches such as the venv and the Spark jars are warm), then two runs with the default Params,
through the real scheduler exactly as `make run` does: the first one the scheduler starts after `up` (it also
starts the streaming job), then the warm one, what another `make run` costs (the figure at the top level).
The reference, in the same session: one more warm run with the warm Spark runner stopped, so clean and analyse
start a JVM each with ``spark-submit`` as before the runner (``without_spark_runner``).
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime

from benchmarks.machine import load_average, machine
from local_platform import processes, run, services
from local_platform.instance import REPO, instance_for


def _ts(value: str | None) -> float | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() if value else None


def measure(api, instance) -> dict:
    run.wait_for_dag(api)
    result = run.trigger_and_wait(api, conf={})
    wall = _ts(result["end_date"]) - _ts(result["start_date"])  # the run itself, not any queueing before it
    instances = api.get(f"/dags/{run.DAG_ID}/dagRuns/{result['run_id']}/taskInstances", params={"limit": 100}).json()[
        "task_instances"
    ]
    done = {ti["task_id"]: ti for ti in instances if ti.get("start_date") and ti.get("end_date")}
    stages: dict[str, list[float]] = {}
    for ti in done.values():
        stages.setdefault(ti["task_id"].split(".")[0], []).extend([_ts(ti["start_date"]), _ts(ti["end_date"])])
    dag = api.get(f"/dags/{run.DAG_ID}/tasks").json()["tasks"]
    upstream: dict[str, list[str]] = {}
    for t in dag:  # the API lists downstream edges; invert them
        for child in t.get("downstream_task_ids", []):
            if t["task_id"] in done:
                upstream.setdefault(child, []).append(t["task_id"])
    delays = [
        _ts(done[t]["start_date"]) - max(_ts(done[u]["end_date"]) for u in ups)
        for t, ups in upstream.items()
        if t in done and ups
    ]
    return {
        "run_id": result["run_id"],
        "state": result["state"],
        "wall_s": round(wall, 1),
        "stages": {stage: round(max(times) - min(times), 1) for stage, times in sorted(stages.items())},
        "batch_tasks": {
            task_id.split(".", 1)[1]: round(_ts(ti["end_date"]) - _ts(ti["start_date"]), 1)
            for task_id, ti in sorted(done.items())
            if task_id.startswith("batch.")
        },
        "scheduling_delay_s": {
            "median": round(statistics.median(delays), 2),
            "p90": round(sorted(delays)[int(0.9 * (len(delays) - 1))], 2),
            "max": round(max(delays), 2),
            "edges": len(delays),
        }
        if delays
        else None,
    }


def main(argv: list[str] | None = None) -> dict:
    instance = instance_for("bench")
    names = services.autostarted("bench")
    processes.up(instance, names)
    try:
        api = run.api_client(instance)
        first = measure(api, instance)
        load_before_warm = load_average()
        warm = measure(api, instance)
        processes.down(instance, ["spark"])
        reference = measure(api, instance)
    finally:
        processes.down(instance, list(services.SERVICES))
    result = {
        "machine": {
            **machine(),
            "load_average_before_warm_run": load_before_warm,
            "load_average_at_end": load_average(),
        },
        "params": "defaults (1000 batch events, 200 stream events)",
        **warm,
        "first_run": {key: first[key] for key in ("state", "wall_s", "stages", "batch_tasks", "run_id")},
        "without_spark_runner": {key: reference[key] for key in ("state", "wall_s", "stages", "batch_tasks", "run_id")},
        "target_wall_s": 90,
    }
    (REPO / "benchmarks" / "results" / "run.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
