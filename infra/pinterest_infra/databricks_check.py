"""Offline check of the Databricks job bodies: ``python -m pinterest_infra.databricks_check`` (infra venv).

Each body that ``include.pinterest.databricks_jobs.job_settings`` produces is read by databricks-bundles'
typed ``Job.from_dict``, which is strict (an unknown field or a missing required one raises), and written back
with ``as_dict``: the round trip must give the same body, so no field is lost or renamed on the way to the
Jobs API. Prints one JSON report line; exits 1 on any problem.
"""

from __future__ import annotations

import json
import sys

from databricks.bundles.jobs import Job

from include.pinterest.databricks_jobs import job_names, job_settings
from include.pinterest.settings import Settings

EXAMPLE_FACTS = {
    "PINTEREST_GIT_URL": "https://github.com/example-org/pinterest-pipeline",
    "PINTEREST_GIT_PROVIDER": "gitHub",
    "PINTEREST_GIT_BRANCH": "main",
    "PINTEREST_DATABRICKS_INSTANCE_PROFILE_ARN": "arn:aws:iam::123456789012:instance-profile/pinterest-databricks",
}


def check(body: dict) -> str | None:
    """None when ``body`` is a valid job that survives the typed round trip, else what is wrong."""
    try:
        again = Job.from_dict(body).as_dict()
    except (ValueError, TypeError, KeyError) as error:
        return f"{type(error).__name__}: {error}"
    return None if again == body else "the typed round trip changed the body"


def main() -> int:
    settings = Settings()
    report = {name: check(job_settings(name, settings, EXAMPLE_FACTS)) for name in job_names(settings)}
    broken = dict.fromkeys(("unknown field", "missing task_key"))
    sample = job_settings(job_names(settings)[0], settings, EXAMPLE_FACTS)
    broken["unknown field"] = check({**sample, "max_concurrent_run": 1})
    broken["missing task_key"] = check(
        {**sample, "tasks": [{k: v for k, v in sample["tasks"][0].items() if k != "task_key"}]}
    )
    print(json.dumps({"jobs": report, "broken_bodies": broken}))
    return 1 if any(report.values()) or not all(broken.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
