"""The supervisor without the platform: restarts with backoff, a restart budget, a clean stop while waiting."""

from __future__ import annotations

import json
import sys
import threading

import pytest

from local_platform import supervisor
from local_platform.instance import Instance
from local_platform.service import Service


@pytest.fixture
def supervise(monkeypatch, tmp_path):
    """A Supervisor of a service running ``code`` (Python), on a state folder of its own, with no backoff."""
    instance = Instance("test", tmp_path / "state")
    for folder in ("run", "logs"):
        instance.path(folder).mkdir(parents=True)
    monkeypatch.setattr(supervisor, "instance_for", lambda name: instance)
    monkeypatch.setattr(supervisor, "BACKOFF_S", (0.0,))

    def make(code: str) -> supervisor.Supervisor:
        service = Service(name="crashy", command=lambda i: [sys.executable, "-c", code], healthy=lambda i: True)
        monkeypatch.setattr(supervisor.services, "get", lambda name: service)
        return supervisor.Supervisor("test", "crashy")

    return instance, make


def test_a_service_that_keeps_crashing_is_restarted_then_marked_failed_with_its_last_lines(supervise):
    instance, make = supervise
    assert make("import sys; print('boom'); sys.exit(3)").run() == 1
    record = json.loads(instance.path("run", "crashy.state.json").read_text())
    assert record["state"] == "failed"
    assert record["restarts"] == supervisor.RESTART_BUDGET
    assert record["last_exit"] == "exit code 3"
    assert "boom" in record["last_log"]


def test_a_stop_while_it_waits_to_restart_ends_it_without_a_restart(supervise, monkeypatch):
    instance, make = supervise
    monkeypatch.setattr(supervisor, "BACKOFF_S", (30.0,))
    watched = make("import sys; sys.exit(1)")
    threading.Timer(1.0, watched.stop).start()
    assert watched.run() == 0
    record = json.loads(instance.path("run", "crashy.state.json").read_text())
    assert (record["state"], record["restarts"]) == ("stopped", 1)


def test_exit_causes_name_the_signal():
    assert supervisor.exit_cause(-9) == "killed by SIGKILL"
    assert supervisor.exit_cause(2) == "exit code 2"
