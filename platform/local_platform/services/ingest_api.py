"""Our ingestion API (``include.pinterest.ingest``): the local stand-in for API Gateway + a Kafka REST Proxy."""

from __future__ import annotations

import sys

from local_platform.instance import Instance, bind_host
from local_platform.service import Service, get_json


def _healthy(instance: Instance) -> bool:
    health = get_json(f"http://127.0.0.1:{instance.port('ingest-api')}/health")
    return bool(health) and health.get("status") in {"ok", "degraded"}


SERVICE = Service(
    name="ingest-api",
    port="ingest-api",
    healthy=_healthy,
    command=lambda i: [sys.executable, "-m", "include.pinterest.ingest"],
    environment=lambda i: {"INGEST_API_PORT": str(i.port("ingest-api")), "INGEST_API_HOST": bind_host()},
    needs=("kafka", "kinesis"),
)
