"""The run's Params (the trigger form in the UI) and stage selection: a stage left out of ``params.stages`` is
skipped, not failed."""

from __future__ import annotations

from airflow.sdk import Param, get_current_context
from airflow.sdk.exceptions import AirflowSkipException

STAGES = ["ingestion", "batch", "streaming"]
PARAMS = {
    "events": Param(1000, type="integer", minimum=1, maximum=1_000_000, title="Posts to send (batch mode)"),
    "rate": Param(None, type=["null", "number"], minimum=1, title="Events per second (empty: full speed)"),
    "stream": Param(True, type="boolean", title="Also send posts in stream mode (Kinesis)"),
    "stream_events": Param(200, type="integer", minimum=1, maximum=100_000, title="Posts to send (stream mode)"),
    "seed": Param(42, type="integer", title="Sampling seed (same seed, same posts)"),
    "max_failed_share": Param(
        0.0,
        type="number",
        minimum=0,
        maximum=1,
        title="Tolerated share of events lost to faults",
        description="Posting fails when more events than this share failed after retries or went unsent.",
    ),
    "stages": Param(
        STAGES,
        type="array",
        items={"type": "string", "enum": STAGES},
        title="Stages to run",
        description="Infrastructure, health and verification always run.",
    ),
}


def skip_unless_stage(stage: str) -> None:
    """Raise a skip when this run's Params leave ``stage`` out."""
    if stage not in get_current_context()["params"]["stages"]:
        raise AirflowSkipException(f"stage {stage} not selected in this run's Params")


def stage_gate(stage: str):
    """``skip_unless_stage`` as an operator's ``pre_execute`` hook (for operators we do not own)."""
    return lambda context: skip_unless_stage(stage)
