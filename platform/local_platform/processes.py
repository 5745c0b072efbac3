"""Each service in its own session (process group): started, waited healthy, stopped as a whole group.

A service logs to ``<state>/logs/<service>.log`` and keeps its pid (= process group id) in
``<state>/run/<service>.pid``, so ``down`` signals whole groups and leaves no orphan, and data under
``<state>/data/`` survives ``down``/``up``.
"""

from __future__ import annotations

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


def _pid_file(instance: Instance, name: str) -> Path:
    return instance.path("run", f"{name}.pid")


def running_pid(instance: Instance, name: str) -> int | None:
    """The PID (= process group id) of a running service of this instance, or None."""
    pid_file = _pid_file(instance, name)
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    if not group_alive(pid):
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def check_prerequisites(names: list[str]) -> None:
    """Fail early with the missing tool's name instead of a stack trace from deep inside a start."""
    for name in services.ordered(names):
        services.get(name).prerequisites()


def _environment(instance: Instance, service: Service) -> dict[str, str]:
    env = {**os.environ, **client_env(instance), **service.environment(instance)}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # airflow standalone spawns `airflow` from PATH
    return env


def start(instance: Instance, name: str) -> None:
    """Start ``name`` (and what it needs) unless it runs; return once it is healthy."""
    service = services.get(name)
    if running_pid(instance, name):
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
    service.prepare(instance)
    log = log_path(instance, name)
    with open(log, "ab") as log_file:
        log_file.write(f"\n===== start {time.strftime('%Y-%m-%dT%H:%M:%S')} =====\n".encode())
        process = subprocess.Popen(
            service.command(instance),
            cwd=service.cwd,
            env=_environment(instance, service),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: `down` stops the whole group
        )
    _pid_file(instance, name).write_text(f"{process.pid}\n")
    if not _wait_healthy(instance, service, service.start_timeout_s, process):
        tail = "".join(log.read_text(errors="replace").splitlines(keepends=True)[-15:])
        stop(instance, name)
        raise PlatformError(f"{name} did not become healthy in {service.start_timeout_s:.0f}s; log {log}:\n{tail}")


def stop(instance: Instance, name: str, timeout_s: float = 20.0) -> None:
    """SIGTERM the service's whole process group, SIGKILL what is left after ``timeout_s``."""
    pid = running_pid(instance, name)
    if pid is None:
        return
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and group_alive(pid):
        time.sleep(0.2)
    if group_alive(pid):
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
    _pid_file(instance, name).unlink(missing_ok=True)


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


def _wait_healthy(instance: Instance, service: Service, timeout_s: float, process=None) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
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
        print(f"  {name:<11} healthy   :{instance.port(port) if port else '-':<6} ({time.monotonic() - began:4.1f}s)")


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
        rows.append(
            {
                "service": name,
                "state": "healthy" if pid and service.healthy(instance) else ("unhealthy" if pid else "stopped"),
                "pid": pid,
                "port": instance.port(service.port) if service.port else None,
                "log": str(log_path(instance, name)),
            }
        )
    return rows
