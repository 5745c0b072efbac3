"""Task failure callback: one clear log line saying what failed, why, and where to look."""

from __future__ import annotations

import logging

log = logging.getLogger("pinterest.alerts")


def log_task_failure(context) -> None:
    ti = context["ti"]
    error = context.get("exception")
    cause = (str(error).strip().splitlines() or [type(error).__name__])[0] if error else "unknown cause"
    run_url = getattr(ti, "log_url", "") or ""
    log.error(
        "TASK FAILED %s.%s try %s: %s | run: %s | log: %s",
        ti.dag_id,
        ti.task_id,
        getattr(ti, "try_number", "?"),
        cause[:300],
        run_url.split("/tasks/")[0] if "/tasks/" in run_url else run_url,
        run_url,
    )
