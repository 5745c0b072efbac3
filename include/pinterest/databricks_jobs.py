"""The Databricks jobs of include/aws/databricks/jobs.json, filled in with this deployment's names.

:func:`job_settings` returns one Jobs API ``jobs/create`` body, ready for ``DatabricksCreateJobsOperator``'s
``json`` (which creates the job, or resets the one with the same name). Names come from :class:`Settings`;
deployment facts (the repository, the instance profile) from ``PINTEREST_<NAME>`` variables that the MWAA
startup script exports from the stacks' outputs. A missing variable or an unknown placeholder is named in the
error, so a ``${...}`` never reaches Databricks as a literal.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from string import Template
from typing import Any

from include.pinterest.settings import Settings

JOBS_FILE = Path(__file__).resolve().parent.parent / "aws" / "databricks" / "jobs.json"


def job_names(settings: Settings | None = None) -> list[str]:
    """The job names jobs.json defines, filled from ``Settings`` (their one home): ``batch_job``, ``stream_job``."""
    settings = settings or Settings()
    return [Template(job["name"]).substitute(_names(settings)) for job in _jobs()]


def _names(settings: Settings) -> dict[str, str]:
    return {"topic_prefix": settings.topic_prefix, "batch_job": settings.batch_job, "stream_job": settings.stream_job}


def job_settings(
    name: str, settings: Settings | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The ``jobs/create`` body of the job called ``name`` (for example ``pinterest-batch``)."""
    settings = settings or Settings()
    environ = os.environ if environ is None else environ
    names = job_names(settings)
    if name not in names:
        raise ValueError(f"no Databricks job {name!r} in {JOBS_FILE.name} (it defines {', '.join(names)})")
    template = Template(json.dumps(_jobs()[names.index(name)]))
    values = {**_names(settings), "lake_bucket": settings.bucket, "region": settings.aws_region}
    placeholders = {m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)} - {
        None
    }
    wanted = sorted(placeholders - values.keys())
    missing = [f"PINTEREST_{n.upper()}" for n in wanted if not environ.get(f"PINTEREST_{n.upper()}")]
    if missing:
        raise ValueError(f"{JOBS_FILE.name} job {name!r} needs these environment variables: {', '.join(missing)}")
    values.update({n: environ[f"PINTEREST_{n.upper()}"] for n in wanted})
    return json.loads(template.substitute(values))


def _jobs() -> list[dict[str, Any]]:
    return json.loads(JOBS_FILE.read_text())["jobs"]
