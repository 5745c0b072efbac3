"""Apache Kafka, one KRaft node (broker and controller); storage formatted once per state folder."""

from __future__ import annotations

import secrets
import subprocess

from local_platform.instance import Instance, PlatformError, bind_host
from local_platform.service import Service, port_open, render
from local_platform.services.java import kafka_java, require_kafka_jars


def _config(instance: Instance):
    return instance.path("conf", "kafka.properties")


def _prepare(instance: Instance) -> None:
    data = instance.path("data", "kafka")
    render(
        "kafka.properties",
        _config(instance),
        host=bind_host(),
        port=instance.port("kafka"),
        controller_port=instance.port("kafka-controller"),
        data=data,
    )
    if not (data / "meta.properties").exists():
        # "--cluster-id=<id>": a random id may start with "-", which a separate argument would turn into an option.
        cmd = kafka_java(
            instance,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            f"--cluster-id={_cluster_id(instance)}",
            "-c",
            str(_config(instance)),
            heap="256m",
            log_name="kafka-storage",
        )
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            raise PlatformError(f"formatting Kafka storage in {data} failed:\n{result.stdout}{result.stderr}")


def _cluster_id(instance: Instance) -> str:
    """A stable KRaft cluster id per state folder (22 url-safe base64 chars)."""
    id_file = instance.path("conf", "kafka-cluster-id")
    if not id_file.exists():
        id_file.parent.mkdir(parents=True, exist_ok=True)
        id_file.write_text(secrets.token_urlsafe(16)[:22])
    return id_file.read_text().strip()


def _healthy(instance: Instance) -> bool:
    if not port_open(instance.port("kafka")):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient({"bootstrap.servers": f"localhost:{instance.port('kafka')}"}).list_topics(timeout=3)
        return True
    except Exception:
        return False


SERVICE = Service(
    name="kafka",
    port="kafka",
    healthy=_healthy,
    prepare=_prepare,
    prerequisites=require_kafka_jars,
    command=lambda i: kafka_java(i, "kafka.Kafka", str(_config(i)), heap="768m", log_name="kafka"),
    start_timeout_s=90,
)
