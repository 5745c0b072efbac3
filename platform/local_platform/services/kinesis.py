"""The Kinesis-compatible endpoint: kinesis-mock (npm ``kinesis-local``), its state persisted under data/kinesis."""

from __future__ import annotations

import shutil

from local_platform.instance import CACHE, LOCAL_CREDENTIALS, Instance, PlatformError
from local_platform.service import Service

KINESIS_MOCK = CACHE / "node" / "node_modules" / "kinesis-local" / "main.js"


def _prerequisites() -> None:
    if not shutil.which("node"):
        raise PlatformError("no `node` on PATH: install Node.js 18 or newer")
    if not KINESIS_MOCK.exists():
        raise PlatformError("kinesis-mock is not installed: run `make setup`")


def _environment(instance: Instance) -> dict[str, str]:
    return {
        "KINESIS_MOCK_PLAIN_PORT": str(instance.port("kinesis")),
        "KINESIS_MOCK_TLS_PORT": str(instance.port("kinesis-tls")),
        "SHOULD_PERSIST_DATA": "true",
        "LOAD_DATA_IF_EXISTS": "true",
        "PERSIST_PATH": str(instance.path("data", "kinesis")),
        "PERSIST_INTERVAL": "5s",  # kinesis-mock rewrites its whole state file each time: not too often
        "CREATE_STREAM_DURATION": "200ms",
        "LOG_LEVEL": "WARN",
    }


def _healthy(instance: Instance) -> bool:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "kinesis",
        endpoint_url=f"http://127.0.0.1:{instance.port('kinesis')}",
        region_name="us-east-1",
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 0}),
    )
    try:
        client.list_streams(Limit=1)
        return True
    except Exception:
        return False


SERVICE = Service(
    name="kinesis",
    port="kinesis",
    healthy=_healthy,
    environment=_environment,
    prerequisites=_prerequisites,
    command=lambda i: ["node", str(KINESIS_MOCK)],
    cwd=KINESIS_MOCK.parent,  # kinesis-mock reads its TLS certificate (server.json) from the working directory
)
