"""PostgreSQL (Debian's server packages) for Airflow's metadata database, as on MWAA; data under data/postgres.

PostgreSQL refuses to run as root, so when the platform runs as root the server runs as the ``postgres``
user the Debian package creates. It listens on the bind address only, by password (scram-sha-256); the
password is a secret of the state folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from local_platform.instance import Instance, PlatformError, bind_host
from local_platform.service import Service

DATABASE = USER = "airflow"


def _binaries() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise PlatformError(
            "PostgreSQL's server is not installed: run `make setup` (as root it runs "
            "`apt-get install postgresql`), or install Debian's `postgresql` package"
        )
    return found[-1].parent


def _as_server_user() -> list[str]:
    """The prefix that drops root to the ``postgres`` user (exec, no fork: the pid stays the server's)."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"]


def _data(instance: Instance) -> Path:
    return instance.path("data", "postgres")


def _check_reachable(path: Path) -> None:
    """As root the server runs as ``postgres``, which must be able to pass through every folder above ``path``;
    refuse early, naming the folder, instead of failing inside initdb (a checkout under /root is the usual case)."""
    import pwd

    server_uid = pwd.getpwnam("postgres").pw_uid
    for folder in [*reversed(path.parents)]:
        mode = folder.stat()
        if not (mode.st_mode & 0o001 or mode.st_uid == server_uid):
            raise PlatformError(
                f"PostgreSQL runs as the `postgres` user when the platform runs as root, and that user cannot "
                f"enter {folder} (mode {mode.st_mode & 0o777:o}). Let other users pass through it "
                f"(`chmod o+x {folder}`), put the checkout elsewhere, or run the platform as a non-root user."
            )


def _prepare(instance: Instance) -> None:
    """Create the cluster and the two databases on first start (initdb, then single-user mode: no server)."""
    data = _data(instance)
    if (data / "PG_VERSION").exists():
        return
    binaries = _binaries()
    data.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        _check_reachable(data)
    password_file = instance.path("run", "postgres-password")
    password_file.write_text(instance.secret("postgres-password"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
        shutil.chown(password_file, "postgres", "postgres")
    password_file.chmod(0o600)
    try:
        run = [
            *_as_server_user(),
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "--encoding=UTF8",
            "--no-instructions",
        ]
        subprocess.run(run, check=True, capture_output=True, text=True)
        subprocess.run(
            [*_as_server_user(), str(binaries / "postgres"), "--single", "-D", str(data), "postgres"],
            input=f"CREATE DATABASE {DATABASE} OWNER {USER};\n",
            check=True,
            capture_output=True,
            text=True,
        )
    except subprocess.CalledProcessError as error:
        shutil.rmtree(data, ignore_errors=True)
        raise PlatformError(f"PostgreSQL's initdb failed: {error.stderr.strip()}") from error
    finally:
        password_file.unlink(missing_ok=True)


def url_file(instance: Instance) -> Path:
    """A file (mode 600) holding the SQLAlchemy URL of the metadata database: it carries the password, so
    Airflow reads it through ``sql_alchemy_conn_cmd`` and it is never put into an environment or a log."""
    password = instance.secret("postgres-password")
    target = instance.path("secrets", "airflow-database-url")
    url = f"postgresql+psycopg2://{USER}:{password}@127.0.0.1:{instance.port('postgres')}/{DATABASE}"
    if not target.exists() or target.read_text() != url:  # the port moves with PINTEREST_PORT_OFFSET
        target.write_text(url)
        target.chmod(0o600)
    return target


def _healthy(instance: Instance) -> bool:
    ready = subprocess.run(
        [str(_binaries() / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(instance.port("postgres"))], check=False
    )
    return ready.returncode == 0


SERVICE = Service(
    name="postgres",
    port="postgres",
    healthy=_healthy,
    prepare=_prepare,
    prerequisites=_binaries,
    command=lambda i: [
        *_as_server_user(),
        str(_binaries() / "postgres"),
        "-D",
        str(_data(i)),
        "-p",
        str(i.port("postgres")),
        "-c",
        f"listen_addresses={bind_host()}",
        "-c",
        "unix_socket_directories=",  # TCP only, no socket file
    ],
)
