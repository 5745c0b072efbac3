"""Start, stop and inspect the local platform: real engines, one process group each.

Usage: python -m local_platform {up,down,status,env} [--instance dev|test|bench] [--services a,b]
       python -m local_platform exec [--instance dev|test|bench] -- COMMAND...  (COMMAND with the client env)

Every service runs in its own session (process group), logs to <state>/logs/<service>.log and keeps its
data under <state>/data/<service>/, so `down` signals whole groups and leaves no orphan, and data survives
`down`/`up`. The `test` instance uses other ports and another state folder, so tests never touch the data
of a platform the user left running.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
KAFKA_JARS = CACHE / "jars" / "kafka"
S3PROXY_JAR = CACHE / "jars" / "s3proxy" / "s3proxy.jar"
KINESIS_MOCK = CACHE / "node" / "node_modules" / "kinesis-local" / "main.js"
CONNECT_PLUGIN = REPO / "platform" / "connect-s3-sink" / "target" / "plugin"
VENV_BIN = Path(sys.executable).parent

# Each instance of the platform has its own ports and state folder, so tests and benchmarks never touch the
# data of the developer's own (dev) platform. PINTEREST_PORT_OFFSET shifts all of them (two checkouts at once).
INSTANCES = {"dev": 0, "test": 10000, "bench": 30000}
BASE_PORTS = {
    "kafka": 9092,
    "kafka-controller": 9093,
    "connect": 8083,
    "s3": 9000,
    "kinesis": 4568,
    "kinesis-tls": 4567,
    "ingest-api": 8082,
    "airflow": 8080,
}


class PlatformError(RuntimeError):
    """A clear, user-facing reason why the platform cannot do what was asked."""


@dataclass(frozen=True)
class Instance:
    name: str
    state: Path

    @property
    def offset(self) -> int:
        return INSTANCES[self.name] + int(os.environ.get("PINTEREST_PORT_OFFSET", "0"))

    def port(self, name: str) -> int:
        return BASE_PORTS[name] + self.offset

    def path(self, *parts: str) -> Path:
        return self.state.joinpath(*parts)

    def api_key(self) -> str:
        """The ingestion API key of this state folder, created on first use (never committed, never logged)."""
        key_file = self.path("secrets", "ingest-api-key")
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_urlsafe(32))
            key_file.chmod(0o600)
        return key_file.read_text().strip()

    def client_env(self) -> dict[str, str]:
        """Variables that point clients (API, emulator, Spark, Airflow tasks, tests) at this platform."""
        env = {
            "PINTEREST_PROFILE": "local",
            "PINTEREST_PLATFORM_INSTANCE": self.name,
            "PINTEREST_STATE_DIR": str(self.state),
            "PINTEREST_TOPIC_PREFIX": os.environ.get("PINTEREST_TOPIC_PREFIX", "pinterest"),
            "PINTEREST_BUCKET": os.environ.get("PINTEREST_BUCKET", "pinterest-data-lake"),
            "KAFKA_BOOTSTRAP_SERVERS": f"localhost:{self.port('kafka')}",
            "KAFKA_CONNECT_URL": f"http://localhost:{self.port('connect')}",
            "S3_ENDPOINT_URL": f"http://localhost:{self.port('s3')}",
            "KINESIS_ENDPOINT_URL": f"http://localhost:{self.port('kinesis')}",
            "INGEST_API_URL": f"http://localhost:{self.port('ingest-api')}",
            # Spark reaches the lake through the object store's own folder: S3A's streaming checkpoints need
            # empty "directories" that S3Proxy's filesystem backend does not list (README, troubleshooting).
            # Everything else (the S3 sink, the DAG's sensors, delta-rs reads) goes through the S3 API.
            "PINTEREST_LAKE_ROOT": f"file:{self.path('data', 's3', os.environ.get('PINTEREST_BUCKET', 'pinterest-data-lake'))}",  # Hadoop's normal form
            "INGEST_API_KEY": self.api_key(),
            # The local stores accept any credentials; these dummies only satisfy the AWS SDKs' signers.
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            # S3Proxy predates the SDKs' default CRC checksums on every PutObject; send them only when required.
            "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
            "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        }
        env.update(self.airflow_env(env))
        return env

    def airflow_env(self, client: dict[str, str]) -> dict[str, str]:
        """Airflow settings and the connections the DAG uses, by id, through AIRFLOW_CONN_* variables."""
        aws_extra = {
            "region_name": "us-east-1",
            "aws_access_key_id": "local",
            "aws_secret_access_key": "local",
            "service_config": {
                "s3": {"endpoint_url": client["S3_ENDPOINT_URL"]},
                "kinesis": {"endpoint_url": client["KINESIS_ENDPOINT_URL"]},
            },
        }
        conns = {
            "pinterest_aws": {"conn_type": "aws", "extra": aws_extra},
            "pinterest_kafka": {
                "conn_type": "kafka",
                "extra": {"bootstrap.servers": client["KAFKA_BOOTSTRAP_SERVERS"], "group.id": "pinterest-airflow",
                          "enable.auto.commit": False, "auto.offset.reset": "earliest"},
            },
            "pinterest_kafka_connect": {
                "conn_type": "http",
                "host": "localhost",
                "port": self.port("connect"),
                "schema": "http",
            },
            "pinterest_source": {"conn_type": "generic", "extra": {"url": f"sqlite:///{self.path('data', 'source.db')}"}},
            "pinterest_ingest_api": {
                "conn_type": "http",
                "host": "localhost",
                "port": self.port("ingest-api"),
                "schema": "http",
                "password": client["INGEST_API_KEY"],
            },
        }
        env = {f"AIRFLOW_CONN_{cid.upper()}": json.dumps(conn) for cid, conn in conns.items()}
        env.update(
            {
                "AIRFLOW_HOME": str(self.path("airflow")),
                "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
                "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__API__PORT": str(self.port("airflow")),
                "AIRFLOW__API__BASE_URL": f"http://localhost:{self.port('airflow')}",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "10",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            }
        )
        return env


@dataclass(frozen=True)
class Service:
    name: str
    port: str
    command: Callable[[Instance], list[str]]
    healthy: Callable[[Instance], bool]
    prepare: Callable[[Instance], None] = lambda instance: None
    needs: tuple[str, ...] = ()
    start_timeout_s: float = 60.0
    cwd: Path = REPO
    autostart: bool = True  # started by `up` without --services


# ---------------------------------------------------------------- service definitions


def _java(instance: Instance, main: str, *args: str, heap: str = "512m", log_name: str) -> list[str]:
    log4j = _write(
        instance.path("conf", f"log4j2-{log_name}.properties"),
        "rootLogger.level = INFO\nrootLogger.appenderRef.stdout.ref = STDOUT\n"
        "appender.stdout.type = Console\nappender.stdout.name = STDOUT\n"
        "appender.stdout.layout.type = PatternLayout\n"
        "appender.stdout.layout.pattern = [%d] %p %m (%c)%n\n"
        "logger.kafka.name = kafka\nlogger.kafka.level = WARN\n"
        "logger.apache.name = org.apache.kafka\nlogger.apache.level = WARN\n"
        "logger.connect.name = org.apache.kafka.connect.runtime.Worker\nlogger.connect.level = INFO\n",
    )
    return [
        "java",
        f"-Xmx{heap}",
        "-XX:+UseG1GC",
        f"-Dlog4j2.configurationFile={log4j}",
        f"-Dplatform.service={log_name}",
        "-cp",
        f"{KAFKA_JARS}/*",
        main,
        *args,
    ]


def _kafka_prepare(instance: Instance) -> None:
    data = instance.path("data", "kafka")
    conf = _write(
        instance.path("conf", "kafka.properties"),
        f"""process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=localhost:{instance.port('kafka-controller')}
listeners=PLAINTEXT://localhost:{instance.port('kafka')},CONTROLLER://localhost:{instance.port('kafka-controller')}
advertised.listeners=PLAINTEXT://localhost:{instance.port('kafka')}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs={data}
num.partitions=3
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
""",
    )
    if not (data / "meta.properties").exists():
        # "--cluster-id=<id>": a random id may start with "-", which a separate argument would turn into an option.
        cmd = _java(instance, "kafka.tools.StorageTool", "format", "--standalone", f"--cluster-id={_cluster_id(instance)}",
                    "-c", str(conf), log_name="kafka-storage")
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise PlatformError(f"formatting Kafka storage in {data} failed:\n{result.stdout}{result.stderr}")


def _cluster_id(instance: Instance) -> str:
    """A stable KRaft cluster id per state folder (22 url-safe base64 chars)."""
    id_file = instance.path("conf", "kafka-cluster-id")
    if not id_file.exists():
        _write(id_file, secrets.token_urlsafe(16)[:22])
    return id_file.read_text().strip()


def _kafka_healthy(instance: Instance) -> bool:
    if not _port_open(instance.port("kafka")):
        return False
    from confluent_kafka.admin import AdminClient  # local import: only the venv's Python needs it

    try:
        AdminClient({"bootstrap.servers": f"localhost:{instance.port('kafka')}"}).list_topics(timeout=3)
        return True
    except Exception:
        return False


def _connect_prepare(instance: Instance) -> None:
    if not (CONNECT_PLUGIN.is_dir() and any(CONNECT_PLUGIN.glob("*.jar"))):
        raise PlatformError(f"the S3 sink connector plugin is not built ({CONNECT_PLUGIN}): run `make setup`")
    # plugin.path must hold one folder per plugin (the plugin's jars inside), not the build's target/.
    plugins = instance.path("plugins")
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "connect-s3-sink"
    if not link.is_symlink():
        link.symlink_to(CONNECT_PLUGIN, target_is_directory=True)
    _write(
        instance.path("conf", "connect.properties"),
        f"""bootstrap.servers=localhost:{instance.port('kafka')}
group.id=pinterest-connect-{instance.name}
key.converter=org.apache.kafka.connect.storage.StringConverter
value.converter=org.apache.kafka.connect.storage.StringConverter
config.storage.topic=_connect-configs
offset.storage.topic=_connect-offsets
status.storage.topic=_connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
offset.flush.interval.ms=5000
listeners=http://localhost:{instance.port('connect')}
rest.advertised.host.name=localhost
rest.advertised.port={instance.port('connect')}
plugin.path={plugins}
plugin.discovery=service_load
""",
    )


def _connect_healthy(instance: Instance) -> bool:
    plugins = _get_json(f"http://localhost:{instance.port('connect')}/connector-plugins")
    return bool(plugins) and any("S3SinkConnector" in p.get("class", "") for p in plugins)


def _s3_prepare(instance: Instance) -> None:
    data = instance.path("data", "s3")
    data.mkdir(parents=True, exist_ok=True)
    _write(
        instance.path("conf", "s3proxy.properties"),
        f"""s3proxy.endpoint=http://127.0.0.1:{instance.port('s3')}
s3proxy.authorization=none
jclouds.provider=filesystem
jclouds.filesystem.basedir={data}
""",
    )


def _s3_healthy(instance: Instance) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{instance.port('s3')}/", timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


def _kinesis_command(instance: Instance) -> list[str]:
    return ["node", str(KINESIS_MOCK)]


def _kinesis_healthy(instance: Instance) -> bool:
    import boto3  # local import: only the venv's Python needs it
    from botocore.config import Config

    client = boto3.client(
        "kinesis",
        endpoint_url=f"http://127.0.0.1:{instance.port('kinesis')}",
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=Config(connect_timeout=1, read_timeout=2, retries={"max_attempts": 0}),
    )
    try:
        client.list_streams(Limit=1)
        return True
    except Exception:
        return False


def _api_healthy(instance: Instance) -> bool:
    health = _get_json(f"http://127.0.0.1:{instance.port('ingest-api')}/health")
    return bool(health) and health.get("status") in {"ok", "degraded"}


def _stream_healthy(instance: Instance) -> bool:
    """Every table's query holds its lock in the streaming driver (`python -m include.pinterest.streaming status`)."""
    result = subprocess.run([str(VENV_BIN / "python"), "-m", "include.pinterest.streaming", "status"], cwd=REPO,
                            env={**os.environ, **instance.client_env()}, capture_output=True, text=True, timeout=60)
    try:
        tables = json.loads(result.stdout)
    except ValueError:
        return False
    return bool(tables) and all(t.get("running") for t in tables.values())


def _airflow_healthy(instance: Instance) -> bool:
    health = _get_json(f"http://127.0.0.1:{instance.port('airflow')}/api/v2/monitor/health")
    return bool(health) and health.get("scheduler", {}).get("status") == "healthy"


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("s3", "s3", lambda p: ["java", "-Xmx256m", "-jar", str(S3PROXY_JAR), "--properties",
                                       str(p.path("conf", "s3proxy.properties"))], _s3_healthy, _s3_prepare),
        # kinesis-mock reads its TLS certificate (server.json) from the working directory.
        Service("kinesis", "kinesis", _kinesis_command, _kinesis_healthy, cwd=KINESIS_MOCK.parent),
        Service("kafka", "kafka", lambda p: _java(p, "kafka.Kafka", str(p.path("conf", "kafka.properties")),
                                                  heap="768m", log_name="kafka"),
                _kafka_healthy, _kafka_prepare, start_timeout_s=90),
        Service("connect", "connect", lambda p: _java(p, "org.apache.kafka.connect.cli.ConnectDistributed",
                                                      str(p.path("conf", "connect.properties")),
                                                      heap="512m", log_name="connect"),
                _connect_healthy, _connect_prepare, needs=("kafka", "s3"), start_timeout_s=120),
        Service("ingest-api", "ingest-api", lambda p: [str(VENV_BIN / "python"), "-m", "include.pinterest.ingest"],
                _api_healthy, needs=("kafka", "kinesis")),
        # The streaming job (Spark driver, three queries); started by the DAG once the streams exist.
        Service("stream", "kinesis", lambda p: [str(VENV_BIN / "python"), "-m", "include.pinterest.streaming", "start"],
                _stream_healthy, needs=("kinesis", "s3"), start_timeout_s=300, autostart=False),
        Service("airflow", "airflow", lambda p: [str(VENV_BIN / "airflow"), "standalone"], _airflow_healthy,
                needs=("kafka", "connect", "s3", "kinesis"), start_timeout_s=180),
    )
}
_AUTOSTART = [name for name, service in SERVICES.items() if service.autostart]
DEFAULT_SERVICES = {"dev": _AUTOSTART, "bench": _AUTOSTART, "test": [s for s in _AUTOSTART if s != "airflow"]}


def _service_env(instance: Instance, service: Service) -> dict[str, str]:
    env = {**os.environ, **instance.client_env()}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # airflow standalone spawns `airflow` from PATH
    if service.name == "kinesis":
        env.update(
            KINESIS_MOCK_PLAIN_PORT=str(instance.port("kinesis")),
            KINESIS_MOCK_TLS_PORT=str(instance.port("kinesis-tls")),
            SHOULD_PERSIST_DATA="true",
            LOAD_DATA_IF_EXISTS="true",
            PERSIST_PATH=str(instance.path("data", "kinesis")),
            PERSIST_INTERVAL="5s",  # kinesis-mock rewrites its whole state file each time: not too often
            CREATE_STREAM_DURATION="200ms",
            LOG_LEVEL="WARN",
        )
    if service.name == "ingest-api":
        env.update(INGEST_API_PORT=str(instance.port("ingest-api")), INGEST_API_HOST="127.0.0.1")
    return env


# ---------------------------------------------------------------- process groups


def _pid_file(instance: Instance, name: str) -> Path:
    return instance.path("run", f"{name}.pid")


def running_pid(instance: Instance, name: str) -> int | None:
    """The PID (= process group id) of a running service of this instance, or None."""
    pid_file = _pid_file(instance, name)
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    try:
        os.killpg(pid, 0)
    except (ProcessLookupError, PermissionError):
        pid_file.unlink(missing_ok=True)
        return None
    return pid


def start(instance: Instance, name: str) -> None:
    service = SERVICES[name]
    if running_pid(instance, name):
        if _wait_healthy(instance, service, service.start_timeout_s):
            return
        raise PlatformError(f"{name} is running but not healthy: see {log_path(instance, name)}")
    port = instance.port(service.port)
    if service.name != "stream" and _port_open(port):
        raise PlatformError(
            f"port {port} for {name} is taken by another process; stop it (e.g. `ss -ltnp 'sport = :{port}'`) "
            f"or use another instance"
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
            env=_service_env(instance, service),
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
    pid = running_pid(instance, name)
    if pid is None:
        return
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _group_alive(pid):
        time.sleep(0.2)
    if _group_alive(pid):
        os.killpg(pid, signal.SIGKILL)
        time.sleep(0.5)
    _pid_file(instance, name).unlink(missing_ok=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
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


def log_path(instance: Instance, name: str) -> Path:
    return instance.path("logs", f"{name}.log")


# ---------------------------------------------------------------- helpers


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except (OSError, ValueError, urllib.error.HTTPError):
        return None


def check_prerequisites(services: list[str]) -> None:
    """Fail early with the missing tool's name instead of a stack trace from deep inside a start."""
    if any(s in services for s in ("kafka", "connect", "s3")):
        java = shutil.which("java")
        if not java:
            raise PlatformError("no `java` on PATH: install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk)")
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        version = out.split('"')[1] if '"' in out else "0"
        major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
        if major < 17:
            raise PlatformError(f"Java {version} found; the platform needs JDK 17 or newer")
        if not any(KAFKA_JARS.glob("kafka_2.13-*.jar")) or not S3PROXY_JAR.exists():
            raise PlatformError("the platform's jars are not downloaded: run `make setup`")
    if "kinesis" in services:
        if not shutil.which("node"):
            raise PlatformError("no `node` on PATH: install Node.js 18 or newer")
        if not KINESIS_MOCK.exists():
            raise PlatformError("kinesis-mock is not installed: run `make setup`")


def ordered(names: list[str]) -> list[str]:
    """Services in start order (dependencies first)."""
    result: list[str] = []

    def visit(name: str) -> None:
        for dep in SERVICES[name].needs:
            visit(dep)
        if name not in result:
            result.append(name)

    for name in names:
        visit(name)
    return result


def instance_for(name: str) -> Instance:
    return Instance(name, REPO / ".state" / name)


def up(instance: Instance, names: list[str]) -> None:
    check_prerequisites(names)
    for name in ordered(names):
        began = time.monotonic()
        start(instance, name)
        print(f"  {name:<11} healthy   :{instance.port(SERVICES[name].port):<6} ({time.monotonic() - began:4.1f}s)")


def down(instance: Instance, names: list[str]) -> None:
    """Stop exactly ``names`` (dependents before what they depend on); dependencies not named keep running."""
    for name in reversed(ordered(names)):
        if name in names:
            stop(instance, name)


def status(instance: Instance, names: list[str]) -> list[dict]:
    rows = []
    for name in names:
        service = SERVICES[name]
        pid = running_pid(instance, name)
        rows.append(
            {
                "service": name,
                "state": "healthy" if pid and service.healthy(instance) else ("unhealthy" if pid else "stopped"),
                "pid": pid,
                "port": instance.port(service.port),
                "log": str(log_path(instance, name)),
            }
        )
    return rows


def airflow_login(instance: Instance) -> str:
    """The UI address and the login standalone generated (a local, per-state-folder password)."""
    passwords = instance.path("airflow", "simple_auth_manager_passwords.json.generated")
    password = json.loads(passwords.read_text()).get("admin", "?") if passwords.exists() else "(not generated yet)"
    return f"http://localhost:{instance.port('airflow')}  login: admin / {password}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["up", "down", "status", "env", "exec"])
    parser.add_argument("--instance", choices=sorted(INSTANCES), default="dev")
    parser.add_argument("--services", help="comma-separated subset (default: all of the instance)")
    parser.add_argument("--json", action="store_true", help="status as JSON")
    argv = sys.argv[1:] if argv is None else argv
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    instance = instance_for(args.instance)
    names = args.services.split(",") if args.services else DEFAULT_SERVICES[args.instance]
    if args.command in ("status", "down") and not args.services:
        names = [*names, "stream"]  # started on demand, but always shown and always stopped
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        parser.error(f"unknown service(s) {unknown}; known: {', '.join(SERVICES)}")
    try:
        if args.command == "up":
            print(f"Starting the {instance.name} platform (state: {instance.state})")
            up(instance, names)
            if "airflow" in names:
                print(f"  Airflow UI: {airflow_login(instance)}")
        elif args.command == "down":
            down(instance, names)
            print(f"Stopped the {instance.name} platform.")
        elif args.command == "status":
            rows = status(instance, names)
            if args.json:
                print(json.dumps(rows, indent=2))
            else:
                for row in rows:
                    print(f"  {row['service']:<11} {row['state']:<9} :{row['port']:<6} {row['log']}")
            # Services started on demand (the streaming job) may be stopped without the platform being unhealthy.
            return 0 if all(r["state"] == "healthy" or (r["state"] == "stopped" and not SERVICES[r["service"]].autostart)
                            for r in rows) else 3
        elif args.command == "exec":
            if not command:
                parser.error("exec needs a command after --")
            os.execvpe(command[0], command, {**os.environ, **instance.client_env()})
        else:
            for key, value in instance.client_env().items():
                if key != "INGEST_API_KEY" and not key.startswith("AIRFLOW_CONN_"):
                    print(f"export {key}={json.dumps(value)}")
    except PlatformError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
