"""The local install resolves to MWAA's Airflow and provider versions (requirements.txt vs. the lock)."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MWAA_CONSTRAINTS = REPO / "constraints" / "mwaa-3.3.1-constraints-3.12.txt"
MWAA_ESSENTIAL = REPO / "constraints" / "mwaa-3.3.1-essential-constraints.txt"  # MWAA pins users cannot override
LOCAL_LOCK = REPO / "constraints" / "local-3.11.txt"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[match.group(1).lower().replace("_", "-")] = match.group(2)
    return pins


def _airflow_pins(pins: dict[str, str]) -> dict[str, str]:
    return {
        name: v for name, v in pins.items() if name == "apache-airflow" or name.startswith("apache-airflow-providers-")
    }


def test_requirements_carries_the_mwaa_constraint_line():
    text = (REPO / "requirements.txt").read_text()
    assert re.search(
        r"^--constraint \"https://raw.githubusercontent.com/apache/airflow/constraints-3\.3\.1/constraints-3\.12\.txt\"$",
        text,
        re.M,
    )


def _mwaa() -> dict[str, str]:
    return {**_pins(MWAA_CONSTRAINTS), **_pins(MWAA_ESSENTIAL)}


def test_requirements_pins_match_mwaa():
    mwaa = _mwaa()
    # Packages MWAA's set pins must keep its version; additions (e.g. deltalake) are free to pin their own.
    for name, pinned in _pins(REPO / "requirements.txt").items():
        if name.startswith("apache-airflow") or name in mwaa:
            assert mwaa.get(name) == pinned, f"requirements.txt pins {name}=={pinned}, MWAA has {mwaa.get(name)}"


def test_local_lock_has_mwaa_airflow_and_provider_versions():
    mwaa, lock = _mwaa(), _pins(LOCAL_LOCK)
    assert lock["apache-airflow"] == "3.3.1"
    locked = _airflow_pins(lock)
    assert {
        "apache-airflow-providers-amazon",
        "apache-airflow-providers-databricks",
        "apache-airflow-providers-apache-kafka",
        "apache-airflow-providers-standard",
    } <= set(locked)
    for name, pinned in locked.items():
        assert mwaa.get(name) == pinned, f"local lock has {name}=={pinned}, MWAA has {mwaa.get(name)}"


def test_installed_versions_are_the_locked_ones():
    for name, pinned in _airflow_pins(_pins(LOCAL_LOCK)).items():
        assert version(name) == pinned, f"{name} installed {version(name)}, locked {pinned}"


def test_local_lock_keeps_mwaa_essential_pins_it_installs():
    essential, lock = _pins(MWAA_ESSENTIAL), _pins(LOCAL_LOCK)
    for name, pinned in essential.items():
        if name in lock:
            assert lock[name] == pinned, f"MWAA does not let {name} move from {pinned}; the lock has {lock[name]}"
