"""Shared fixtures: the test platform (real engines on the test ports, in .state/test).

The platform starts once per session, on first use by an integration test, and stops at the end unless
PINTEREST_KEEP_TEST_PLATFORM=1 (handy when iterating) or it was already running when the session began. It never touches the user's platform (.state/dev).
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# Before anything imports Airflow: the suite's own Airflow home and database, never the user's.
os.environ["AIRFLOW_HOME"] = str(REPO / ".state" / "test" / "airflow-pytest")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")

from local_platform import processes, services  # noqa: E402  (after AIRFLOW_HOME is set)
from local_platform.environment import client_env  # noqa: E402
from local_platform.instance import instance_for  # noqa: E402
from local_platform.services import postgres  # noqa: E402
from local_platform.services.airflow import airflow_settings  # noqa: E402

# Its metadata database is the test platform's PostgreSQL (started by platform_control), as on MWAA.
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD"] = f"cat {postgres.url_file(instance_for('test'))}"
# In-process runs (dag.test()) emit OpenLineage events as the platform's tasks do, into .state/test/lineage.
TRANSPORT = "AIRFLOW__OPENLINEAGE__TRANSPORT"
os.environ[TRANSPORT] = airflow_settings(instance_for("test"))[TRANSPORT]


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout_s: float = 120.0, interval_s: float = 1.0):
    """The first truthy value of ``condition()``, polled until ``timeout_s``; an AssertionError after it."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(interval_s)
    raise AssertionError(f"not so after {timeout_s:.0f} s: {getattr(condition, '__name__', condition)}")


class PlatformControl:
    """Start and stop single services of the test platform, for fault tests."""

    def __init__(self, instance):
        self.instance = instance

    def stop(self, service: str) -> None:
        processes.stop(self.instance, service)

    def start(self, service: str) -> None:
        processes.start(self.instance, service)

    def kill(self, service: str) -> None:
        """SIGKILL the service's whole process group (a crash: no shutdown hook runs)."""
        processes.kill(self.instance, service)


@pytest.fixture(scope="session")
def platform_control():
    instance = instance_for("test")
    names = services.autostarted("test")
    processes.check_prerequisites(names)
    already_running = all(processes.running_pid(instance, name) for name in names)
    processes.up(instance, names)
    yield PlatformControl(instance)
    # A platform that was running before this session (another session's, or kept on purpose) is left running.
    if not already_running and os.environ.get("PINTEREST_KEEP_TEST_PLATFORM") != "1":
        processes.down(instance, list(services.SERVICES))


@pytest.fixture(scope="session")
def airflow_db(platform_control):
    """A migrated metadata database for in-process `dag.test()` runs."""
    import subprocess

    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, env=os.environ)


@pytest.fixture(scope="session")
def platform_env(platform_control, airflow_db):
    """The test platform's client variables, also exported to os.environ for code that reads Settings()."""
    env = client_env(platform_control.instance)
    env.pop("AIRFLOW_HOME")  # the suite keeps its own Airflow home (set above, migrated by airflow_db)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    yield env
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


CHROMIUM_FLAGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def chromium_page():
    """A headless Chromium tab driven by Playwright. The browser is Debian's ``chromium`` (``make setup`` installs
    it as root), never Playwright's own download: the machines reach package registries only. Where either is
    missing the test skips and says so."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("no chromium on PATH: install Debian's 'chromium' package (make setup does, as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (make setup)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1400, "height": 1000})
        finally:
            browser.close()
