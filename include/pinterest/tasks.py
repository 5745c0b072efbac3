"""The work behind the DAG's TaskFlow tasks: plain functions of plain inputs, testable without Airflow.

Each reads what it needs at run time (connections are resolved by the caller through Airflow hooks and
passed in), so the DAG file stays declarative and nothing here runs at parse time.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from include.pinterest.lake import Lake
from include.pinterest.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def ensure_local_source(url: str, rows: int, seed: int) -> dict[str, Any]:
    """Generate the source tables once (spec §2); an existing source with the same size is kept."""
    from include.pinterest.source.generator import write_source

    result = write_source(url, rows=rows, seed=seed)
    return {"rows": result.rows, "created": result.created}


def post_events(*, source_url: str, target_url: str, api_key: str | None, mode: str, events: int,
                rate: float | None, seed: int, settings: Settings) -> dict[str, Any]:
    """Run the posting emulator once; the summary keeps the accepted ``ind``s for reconciliation."""
    from include.pinterest.emulator import run
    from include.pinterest.emulator.runner import EmulatorConfig

    summary = run(EmulatorConfig(source_url=source_url, target_url=target_url, api_key=api_key, mode=mode,
                                 events=events, rate=rate, seed=seed, track_inds=True, settings=settings))
    result = summary.as_dict()
    result["accepted_inds"] = sorted(summary.accepted_inds or ())
    if summary.accepted == 0:
        raise RuntimeError(f"the API accepted no {mode} events of {summary.sent}: {summary.rejected_reasons[:3]}")
    return result


def start_local_stream_job(platform_instance: str) -> str:
    """Start the local streaming job as a supervised platform service (a no-op when it already runs)."""
    subprocess.run([sys.executable, "-m", "local_platform", "up", "--instance", platform_instance,
                    "--services", "stream"], check=True, cwd=REPO, timeout=600)
    return "running"


def delta_inds(table_uri: str, storage_options: dict[str, str] | None) -> set[int]:
    """The ``ind``s of a Delta table, read as Delta (never as plain parquet: removed files would count)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        table = DeltaTable(table_uri, storage_options=storage_options)
    except TableNotFoundError:
        return set()
    return set(table.to_pyarrow_table(columns=["ind"]).column("ind").to_pylist())


def delta_storage_options(settings: Settings) -> dict[str, str] | None:
    """delta-rs options for the local object store; None on AWS (the execution role's credentials)."""
    if not settings.s3_endpoint_url:
        return None
    return {"AWS_ENDPOINT_URL": settings.s3_endpoint_url, "AWS_ALLOW_HTTP": "true", "AWS_REGION": settings.aws_region,
            "AWS_S3_ALLOW_UNSAFE_RENAME": "true", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}


def silver_uris(settings: Settings) -> dict[str, str]:
    return Lake.of(settings, "delta-rs").silver_tables


def stream_table_uris(settings: Settings) -> dict[str, str]:
    return Lake.of(settings, "delta-rs").stream_tables
