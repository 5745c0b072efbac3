"""The Kinesis-compatible endpoint: kinesalite (npm), its streams in LevelDB under data/kinesis.

kinesalite writes every acknowledged PutRecord(s) to LevelDB's log before it answers, so a kill -9 loses
nothing it acknowledged (kinesis-mock, used before, snapshotted its whole state every few seconds).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from local_platform.instance import CACHE, LOCAL_CREDENTIALS, REPO, Instance, PlatformError, bind_host
from local_platform.service import Service

NODE_MODULES = CACHE / "node" / "node_modules"
LAUNCHER = REPO / "platform" / "node" / "kinesalite.js"


def endpoint_command(port: int, store: Path | None = None) -> list[str]:
    """The command line of one endpoint on the bind address; ``store`` None keeps its streams in memory
    (private endpoints of tests and benchmarks)."""
    return ["node", str(LAUNCHER), bind_host(), str(port), *([str(store)] if store else [])]


def endpoint_environment() -> dict[str, str]:
    return {"NODE_PATH": str(NODE_MODULES)}  # the launcher lives in the repository, its modules in .cache


def require_installed() -> None:
    if not shutil.which("node"):
        raise PlatformError("no `node` on PATH: install Node.js 18 or newer")
    if not (NODE_MODULES / "kinesalite").exists():
        raise PlatformError("kinesalite is not installed: run `make setup`")


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
    environment=lambda i: endpoint_environment(),
    prerequisites=require_installed,
    command=lambda i: endpoint_command(i.port("kinesis"), i.path("data", "kinesis")),
)
