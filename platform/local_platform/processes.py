"""Each service in its own session (process group), under a supervisor that restarts it after a crash
(``local_platform.supervisor``): started, waited healthy, stopped as a whole group.

A service logs to ``<state>/logs/<service>.log`` and keeps its pid (= process group id) in
``<state>/run/<service>.pid``; its supervisor's pid is in ``<service>.supervisor.pid`` and what the supervisor saw
(restarts, last exit cause) in ``<service>.state.json``. ``down`` stops the supervisor first, then the service's
whole group, so nothing is restarted or left behind; data under ``<state>/data/`` survives ``down``/``up``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from local_platform import services
from local_platform.environment import client_env
from local_platform.instance import Instance, PlatformError
from local_platform.service import Service, port_open

VENV_BIN = Path(sys.executable).parent


def log_path(instance: Instance, name: str) -> Path:
    return instance.path("logs", f"{name}.log")


def pid_file(instance: Instance, name: str) -> Path:
    return instance.path("run", f"{name}.pid")


def _supervisor_pid_file(instance: Instance, name: str) -> Path:
    return instance.path("run", f"{name}.supervisor.pid")


def state_file(instance: Instance, name: str) -> Path:
    return instance.path("run", f"{name}.state.json")


def log_tail(instance: Instance, name: str, lines: int = 15) -> str:
    log = log_path(instance, name)
    return "".join(log.read_text(errors="replace").splitlines(keepends=True)[-lines:]) if log.exists() else ""


def _live_pid(path: Path) -> int | None:
    if not path.exists():
        return None
    pid = int(path.read_text().split()[0])
    if not group_alive(pid):
        path.unlink(missing_ok=True)
        return None
    return pid


def running_pid(instance: Instance, name: str) -> int | None:
    """The PID (= process group id) of a running service of this instance, or None."""
    return _live_pid(pid_file(instance, name))


def supervisor_pid(instance: Instance, name: str) -> int | None:
    return _live_pid(_supervisor_pid_file(instance, name))


def check_prerequisites(names: list[str]) -> None:
    """Fail early with the missing tool's name instead of a stack trace from deep inside a start."""
    for name in services.ordered(names):
        services.get(name).prerequisites()


def environment(instance: Instance, service: Service) -> dict[str, str]:
    env = {**os.environ, **client_env(instance), **service.environment(instance)}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # Airflow's components spawn `airflow` from PATH
    return env


def start(instance: Instance, name: str) -> None:
    """Start ``name`` (and what it needs) under its supervisor unless it runs; return once it is healthy."""
    service = services.get(name)
    if running_pid(instance, name) or supervisor_pid(instance, name):
        if _wait_healthy(instance, service, service.start_timeout_s):
            return
        raise PlatformError(f"{name} is running but not healthy: see {log_path(instance, name)}")
    if service.port and port_open(instance.port(service.port)):
        port = instance.port(service.port)
        raise PlatformError(
            f"port {port} for {name} is taken by another process; stop it (e.g. "
            f"`ss -ltnp 'sport = :{port}'`) or use another instance or PINTEREST_PORT_OFFSET"
        )
    for dependency in service.needs:
        start(instance, dependency)
    for directory in ("logs", "run", "conf", "data"):
        instance.path(directory).mkdir(parents=True, exist_ok=True)
    state_file(instance, name).unlink(missing_ok=True)
    with open(instance.path("logs", "supervisor.log"), "ab") as log_file:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "local_platform.supervisor", instance.name, name],
            env=environment(instance, service),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # apart from the service's group: it outlives a kill of the service
        )
    _supervisor_pid_file(instance, name).write_text(f"{supervisor.pid}\n")
    if not _wait_healthy(instance, service, service.start_timeout_s, supervisor):
        tail = log_tail(instance, name)
        stop(instance, name)
        raise PlatformError(
            f"{name} did not become healthy in {service.start_timeout_s:.0f}s; log {log_path(instance, name)}:\n{tail}"
        )


def stop(instance: Instance, name: str, timeout_s: float = 20.0) -> None:
    """Stop the supervisor (so nothing restarts the service), then the service's whole process group."""
    supervisor = supervisor_pid(instance, name)
    if supervisor is not None:
        stop_group(supervisor, timeout_s + 5)  # it stops the service's group itself first
        _supervisor_pid_file(instance, name).unlink(missing_ok=True)
    pid = running_pid(instance, name)
    if pid is not None:
        stop_group(pid, timeout_s)
    pid_file(instance, name).unlink(missing_ok=True)


def kill(instance: Instance, name: str) -> int:
    """SIGKILL the service's whole process group, as a crash does (no shutdown hook runs); its supervisor stays.

    Returns the killed group's id once no live member is left. For fault tests and the fault matrix.
    """
    pid = running_pid(instance, name)
    if pid is None:
        raise PlatformError(f"{name} is not running")
    os.killpg(pid, signal.SIGKILL)
    while group_alive(pid):  # a killed child of the caller stays a zombie: not alive
        time.sleep(0.1)
    return pid


def stop_group(pgid: int, timeout_s: float) -> None:
    """SIGTERM a whole process group, SIGKILL what is left after ``timeout_s``."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and group_alive(pgid):
        time.sleep(0.2)
    if group_alive(pgid):
        os.killpg(pgid, signal.SIGKILL)
        time.sleep(0.5)


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # A group whose only members are zombies (our own unreaped child) is gone for our purposes.
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def _wait_healthy(instance: Instance, service: Service, timeout_s: float, supervisor=None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if supervisor is not None and supervisor.poll() is not None:  # it gave up: the service kept crashing
            return False
        if service.healthy(instance):
            return True
        time.sleep(0.5)
    return False


def up(instance: Instance, names: list[str]) -> None:
    check_prerequisites(names)
    for name in services.ordered(names):
        began = time.monotonic()
        start(instance, name)
        port = services.get(name).port
        print(f"  {name:<22} healthy   :{instance.port(port) if port else '-':<6} ({time.monotonic() - began:4.1f}s)")


def down(instance: Instance, names: list[str]) -> None:
    """Stop exactly ``names`` (dependents before what they depend on); dependencies not named keep running."""
    for name in reversed(services.ordered(names)):
        if name in names:
            stop(instance, name)


def status(instance: Instance, names: list[str]) -> list[dict]:
    rows = []
    for name in names:
        service = services.get(name)
        pid = running_pid(instance, name)
        record = json.loads(state_file(instance, name).read_text()) if state_file(instance, name).exists() else {}
        if pid:
            state = "healthy" if service.healthy(instance) else "unhealthy"
        elif supervisor_pid(instance, name):
            state = "restarting"
        else:
            state = "failed" if record.get("state") == "failed" else "stopped"
        rows.append(
            {
                "service": name,
                "state": state,
                "pid": pid,
                "port": instance.port(service.port) if service.port else None,
                "restarts": record.get("restarts", 0),
                "last_exit": record.get("last_exit"),
                "last_exit_at": record.get("last_exit_at"),
                "last_log": record.get("last_log") if state == "failed" else None,
                "log": str(log_path(instance, name)),
            }
        )
    return rows
