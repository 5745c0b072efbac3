"""The machine a benchmark ran on, recorded next to every result."""

import os
import platform as _platform

import psutil


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages: the machine is shared, so every result records them."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": _platform.python_version(),
        "cpu": _platform.processor() or _platform.machine(),
    }
