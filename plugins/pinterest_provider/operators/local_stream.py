"""Start the local platform's streaming job (the stand-in for the Databricks streaming job)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator


class LocalStreamJobStartOperator(BaseOperator):
    """Start the streaming job as a supervised service of the local platform; a no-op when it already runs.

    The platform owns the job's process (one copy, restarted when it crashes, stopped by ``make down``), so this
    asks the platform's CLI for it rather than spawning the job itself. Local profile only: on AWS the
    Databricks job is ensured by ``DatabricksEnsureJobRunningOperator``.

    :param platform_instance: the local platform instance (``dev``, ``test``, ``bench``) the DAG runs on.
    """

    template_fields: Sequence[str] = ("platform_instance",)

    def __init__(self, *, platform_instance: str, timeout_s: float = 600, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.platform_instance = platform_instance
        self.timeout_s = timeout_s

    def execute(self, context) -> str:
        command = [
            sys.executable,
            "-m",
            "local_platform",
            "up",
            "--instance",
            self.platform_instance,
            "--services",
            "stream",
        ]
        result = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout_s)
        self.log.info("%s", result.stdout.strip())
        if result.returncode != 0:
            raise RuntimeError(f"starting the local streaming job failed: {result.stderr.strip()[-2000:]}")
        return "running"
