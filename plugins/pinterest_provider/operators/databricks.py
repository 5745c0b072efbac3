"""Start a Databricks job unless a run of it is already active (for long-running streaming jobs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.providers.databricks.hooks.databricks import DatabricksHook
from airflow.sdk import BaseOperator


class DatabricksEnsureJobRunningOperator(BaseOperator):
    """Run ``job_name`` now unless an active run exists; returns the run id either way.

    A streaming job must never run twice against one checkpoint: this check plus the job's own
    ``max_concurrent_runs: 1`` (include/aws/databricks/jobs.json) make a second DAG run a no-op.
    """

    template_fields: Sequence[str] = ("job_name",)

    def __init__(self, *, job_name: str, databricks_conn_id: str = "databricks_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_name = job_name
        self.databricks_conn_id = databricks_conn_id

    def execute(self, context) -> int:
        hook = DatabricksHook(self.databricks_conn_id)
        job_id = hook.find_job_id_by_name(self.job_name)
        if job_id is None:
            raise ValueError(
                f"no Databricks job named {self.job_name!r}: create it from include/aws/databricks/jobs.json"
            )
        active = hook._do_api_call(("GET", "2.1/jobs/runs/list"), {"job_id": job_id, "active_only": "true"}).get(
            "runs", []
        )
        if active:
            run_id = active[0]["run_id"]
            self.log.info("job %s already running: %s", self.job_name, hook.get_run_page_url(run_id))
            return run_id
        run_id = hook.run_now({"job_id": job_id})
        self.log.info("started job %s: %s", self.job_name, hook.get_run_page_url(run_id))
        return run_id
