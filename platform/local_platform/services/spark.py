"""The warm Spark runner (``include.pinterest.spark.runner``): one driver JVM that runs the batch notebooks.

The local counterpart of a Databricks cluster that is already up: the DAG's clean and analyse tasks run their
notebooks here (``SPARK_RUNNER_URL`` in every client's environment) instead of starting a JVM each.
"""

from __future__ import annotations

import sys

from local_platform.instance import Instance, bind_host
from local_platform.service import Service, get_json


def _healthy(instance: Instance) -> bool:
    health = get_json(f"http://127.0.0.1:{instance.port('spark')}/health")
    return bool(health) and health.get("status") == "ok"


SERVICE = Service(
    name="spark",
    port="spark",
    healthy=_healthy,
    command=lambda i: [
        sys.executable,
        "-m",
        "include.pinterest.spark.runner",
        "--host",
        bind_host(),
        "--port",
        str(i.port("spark")),
    ],
    needs=("s3",),
)
