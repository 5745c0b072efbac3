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
def platform_env(platform_control):
    """The test platform's client variables, also exported to os.environ for code that reads Settings()."""
    env = platform_control.profile.client_env()
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
