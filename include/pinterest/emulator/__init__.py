"""Posting emulator: replays source posts into the ingestion API (batch) or its Kinesis resources (stream)."""

from include.pinterest.emulator.runner import Emulator, EmulatorConfig
from include.pinterest.emulator.summary import RunSummary

__all__ = ["Emulator", "EmulatorConfig", "RunSummary", "run"]


def run(config: EmulatorConfig) -> RunSummary:
    """Run the emulator to completion (blocking) and return its summary."""
    return Emulator(config).run()
