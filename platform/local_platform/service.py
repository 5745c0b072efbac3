"""What a platform service is (command, environment, health, preparation, dependencies) and the small probes
the services share. Each service is one module of ``local_platform.services``."""

from __future__ import annotations

import json
import socket
import string
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from local_platform.instance import REPO, Instance

TEMPLATES = Path(__file__).resolve().parent / "templates"
ALL_INSTANCES = frozenset({"dev", "test", "bench"})


@dataclass(frozen=True)
class Service:
    """One engine of the platform.

    ``port`` names the port that proves it listens (None: it has none of its own); ``autostart`` lists the
    instances whose ``up`` starts it without ``--services``; ``prerequisites`` raises a ``PlatformError`` that
    names what is missing (a JDK, a jar, node) before anything is started.
    """

    name: str
    command: Callable[[Instance], list[str]]
    healthy: Callable[[Instance], bool]
    port: str | None = None
    environment: Callable[[Instance], dict[str, str]] = lambda instance: {}
    prepare: Callable[[Instance], None] = lambda instance: None
    prerequisites: Callable[[], None] = lambda: None
    needs: tuple[str, ...] = ()
    start_timeout_s: float = 60.0
    cwd: Path = REPO
    autostart: frozenset[str] = field(default=ALL_INSTANCES)


def render(template: str, target: Path, **values: object) -> Path:
    """Write ``templates/<template>`` with ``$name`` placeholders filled (an unknown one is an error)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(string.Template((TEMPLATES / template).read_text()).substitute(values))
    return target


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def get_json(url: str):
    """The JSON answer of ``url``, or None when it does not answer (a health probe, never an exception)."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.HTTPError):
        return None
