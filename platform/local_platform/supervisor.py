"""Keeps one service running: ``python -m local_platform.supervisor INSTANCE SERVICE``.

What MSK Connect, MWAA and Databricks do for their workers, locally: the supervisor starts the service in a
process group of its own (so a kill of the service's group leaves the supervisor alive), restarts it after
every exit with exponential backoff, and gives up after ``RESTART_BUDGET`` restarts within
``BUDGET_WINDOW_S`` (a service that keeps crashing is marked failed, with its last log lines, instead of
looping). SIGTERM (``down``) stops the service's group and the supervisor, also while it waits to restart.
What it saw is written to ``<state>/run/<service>.state.json`` for ``status``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from include.pinterest.files import write_json_atomically
from local_platform import processes, services
from local_platform.instance import instance_for

RESTART_BUDGET = 5
BUDGET_WINDOW_S = 600.0
BACKOFF_S = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)
STOP_GRACE_S = 20.0


def exit_cause(returncode: int) -> str:
    return f"killed by {signal.Signals(-returncode).name}" if returncode < 0 else f"exit code {returncode}"


class Supervisor:
    def __init__(self, instance_name: str, name: str):
        self.instance = instance_for(instance_name)
        self.name = name
        self.service = services.get(name)
        self.stopping = threading.Event()
        self.child: subprocess.Popen | None = None
        self.record = {"state": "starting", "restarts": 0, "last_exit": None, "last_exit_at": None, "last_log": None}

    def _write(self, **changes) -> None:
        self.record.update(changes)
        write_json_atomically(processes.state_file(self.instance, self.name), self.record)

    def _spawn(self) -> None:
        self.service.prepare(self.instance)
        with open(processes.log_path(self.instance, self.name), "ab") as log:
            log.write(f"\n===== start {time.strftime('%Y-%m-%dT%H:%M:%S')} =====\n".encode())
            self.child = subprocess.Popen(
                self.service.command(self.instance),
                cwd=self.service.cwd,
                env=processes.environment(self.instance, self.service),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own group: a kill of it (or by `down`) leaves this supervisor
            )
        processes.pid_file(self.instance, self.name).write_text(f"{self.child.pid}\n")
        self._write(state="running")
        if self.stopping.is_set():  # `down` came while it was being started
            self.stop()

    def stop(self, *_signal) -> None:
        self.stopping.set()
        if self.child and self.child.poll() is None:
            processes.stop_group(self.child.pid, STOP_GRACE_S)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        recent: list[float] = []
        self._spawn()
        while True:
            returncode = self.child.wait()
            processes.pid_file(self.instance, self.name).unlink(missing_ok=True)
            if self.stopping.is_set():
                self._write(state="stopped")
                return 0
            now = time.monotonic()
            recent = [t for t in recent if now - t < BUDGET_WINDOW_S] + [now]
            cause = exit_cause(returncode)
            changes = {"last_exit": cause, "last_exit_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
            if len(recent) > RESTART_BUDGET:
                tail = processes.log_tail(self.instance, self.name)
                self._write(state="failed", last_log=tail, **changes)
                print(f"supervisor: {self.name} {cause}; {RESTART_BUDGET} restarts in {BUDGET_WINDOW_S:.0f}s: failed")
                return 1
            delay = BACKOFF_S[min(len(recent), len(BACKOFF_S)) - 1]
            self._write(state="restarting", restarts=self.record["restarts"] + 1, **changes)
            print(f"supervisor: {self.name} {cause}; restarting in {delay:.0f}s", flush=True)
            if self.stopping.wait(delay):
                self._write(state="stopped")
                return 0
            self._spawn()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(Supervisor(sys.argv[1], sys.argv[2]).run())
