"""Shared fixtures: the test platform (real engines on the test ports, in .state/test).

The platform starts once per session, on first use by an integration test, and stops at the end unless
PINTEREST_KEEP_TEST_PLATFORM=1 (handy when iterating). It never touches the user's platform (.state/local).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "plugins"))
# Before anything imports Airflow: the suite's own Airflow home and database, never the user's.
os.environ["AIRFLOW_HOME"] = str(REPO / ".state" / "test" / "airflow-pytest")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")

_spec = importlib.util.spec_from_file_location("platformctl", REPO / "platform" / "platformctl.py")
platformctl = importlib.util.module_from_spec(_spec)
sys.modules["platformctl"] = platformctl  # dataclasses resolve their module through sys.modules
_spec.loader.exec_module(platformctl)


class PlatformControl:
    """Start and stop single services of the test platform, for fault tests."""

    def __init__(self, profile):
        self.profile = profile

    def stop(self, service: str) -> None:
        platformctl.stop(self.profile, service)

    def start(self, service: str) -> None:
        platformctl.start(self.profile, service)


@pytest.fixture(scope="session")
def platform_control():
    profile = platformctl.profile_for("test")
    services = platformctl.DEFAULT_SERVICES["test"]
    platformctl.check_prerequisites(services)
    platformctl.up(profile, services)
    yield PlatformControl(profile)
    if os.environ.get("PINTEREST_KEEP_TEST_PLATFORM") != "1":
        platformctl.down(profile, [*services, "stream"])


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated metadata database for in-process `dag.test()` runs."""
    import subprocess

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=os.environ)


@pytest.fixture(scope="session")
def platform_env(platform_control, airflow_db):
    """The test platform's client variables, also exported to os.environ for code that reads Settings()."""
    env = platform_control.profile.client_env()
    env.pop("AIRFLOW_HOME")  # the suite keeps its own Airflow home (set above, migrated by airflow_db)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
