"""Stage selection by the run's Params: a stage left out of ``params.stages`` is skipped, not failed."""

from __future__ import annotations

from airflow.sdk import get_current_context
from airflow.sdk.exceptions import AirflowSkipException

STAGES = ["ingestion", "batch", "streaming"]


def skip_unless_stage(stage: str) -> None:
    """Raise a skip when this run's Params leave ``stage`` out."""
    if stage not in get_current_context()["params"]["stages"]:
        raise AirflowSkipException(f"stage {stage} not selected in this run's Params")


def stage_gate(stage: str):
    """``skip_unless_stage`` as an operator's ``pre_execute`` hook (for operators we do not own)."""
    return lambda context: skip_unless_stage(stage)
