"""A platform instance: its ports and its state folder (logs, data, configuration, pid files, secrets).

Instances (``dev`` for the developer's own platform, ``test`` for ``make test``, ``bench`` for ``make bench``)
never share a port or a folder, so tests and benchmarks never touch the data of a platform left running.
PINTEREST_PORT_OFFSET shifts every port of every instance (a second checkout on the same machine).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
INSTANCES = {"dev": 0, "test": 10000, "bench": 30000}
BASE_PORTS = {
    "kafka": 9092,
    "kafka-controller": 9093,
    "connect": 8083,
    "s3": 9000,
    "kinesis": 4568,
    "ingest-api": 8082,
    "airflow": 8080,
    "spark": 8086,
    "postgres": 5433,  # not 5432: leaves a PostgreSQL of the machine's own alone
}
LOCAL_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}  # the local stores accept any


class PlatformError(RuntimeError):
    """A clear, user-facing reason why the platform cannot do what was asked."""


def bind_host() -> str:
    """The address every service listens on: loopback, unless PINTEREST_BIND_HOST=0.0.0.0 opens them all to
    the network on purpose (the local services have no authentication of their own, bar the ingest API)."""
    host = os.environ.get("PINTEREST_BIND_HOST", "127.0.0.1")
    if host not in ("127.0.0.1", "0.0.0.0"):
        raise PlatformError(
            f"PINTEREST_BIND_HOST must be 127.0.0.1 (loopback only) or 0.0.0.0 (all interfaces), got {host!r}"
        )
    return host


@dataclass(frozen=True)
class Instance:
    name: str
    state: Path

    @property
    def offset(self) -> int:
        return INSTANCES[self.name] + int(os.environ.get("PINTEREST_PORT_OFFSET", "0"))

    def port(self, name: str) -> int:
        return BASE_PORTS[name] + self.offset

    def url(self, port_name: str, host: str = "localhost") -> str:
        return f"http://{host}:{self.port(port_name)}"

    def path(self, *parts: str) -> Path:
        return self.state.joinpath(*parts)

    @property
    def lineage_dir(self) -> Path:
        """Where Airflow's and Spark's OpenLineage file transports write, created on first use (they do not)."""
        folder = self.path("lineage")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def secret(self, name: str) -> str:
        """A secret of this state folder (the ingest API key, the database password), created on first use;
        never committed, never logged."""
        key_file = self.path("secrets", name)
        if not key_file.exists():
            key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip()


def instance_for(name: str) -> Instance:
    if name not in INSTANCES:
        raise PlatformError(f"instance must be one of {', '.join(INSTANCES)}, got {name!r}")
    return Instance(name, REPO / ".state" / name)
