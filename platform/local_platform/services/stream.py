"""The streaming job (one Spark driver, a query per table): the local stand-in for the Databricks streaming job.

Started on demand (the DAG's ``start_stream_job``), not by ``up``: it needs the streams the DAG creates.
"""

from __future__ import annotations

import sys

from local_platform.instance import Instance
from local_platform.service import Service


def _healthy(instance: Instance) -> bool:
    """Every table's query is held by a live driver: the job's own lock files say so (no process spawned)."""
    from include.pinterest.settings import TABLES
    from include.pinterest.streaming.driver import TableLock

    return all(TableLock(table, instance.state).holder() is not None for table in TABLES)


SERVICE = Service(
    name="stream",
    healthy=_healthy,
    command=lambda i: [sys.executable, "-m", "include.pinterest.streaming", "start"],
    needs=("kinesis", "s3"),
    start_timeout_s=300,
    autostart=frozenset(),
)
