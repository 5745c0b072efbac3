"""Kafka Connect in distributed mode with our S3 sink plugin (platform/connect-s3-sink)."""

from __future__ import annotations

from local_platform.instance import REPO, Instance, PlatformError, bind_host
from local_platform.service import Service, get_json, render
from local_platform.services.java import kafka_java, require_kafka_jars

CONNECT_PLUGIN = REPO / "platform" / "connect-s3-sink" / "target" / "plugin"


def _config(instance: Instance):
    return instance.path("conf", "connect.properties")


def _prerequisites() -> None:
    require_kafka_jars()
    if not (CONNECT_PLUGIN.is_dir() and any(CONNECT_PLUGIN.glob("*.jar"))):
        raise PlatformError(f"the S3 sink connector plugin is not built ({CONNECT_PLUGIN}): run `make setup`")


def _prepare(instance: Instance) -> None:
    # plugin.path must hold one folder per plugin (the plugin's jars inside), not the build's target/.
    plugins = instance.path("plugins")
    plugins.mkdir(parents=True, exist_ok=True)
    link = plugins / "connect-s3-sink"
    if not link.is_symlink():
        link.symlink_to(CONNECT_PLUGIN, target_is_directory=True)
    render(
        "connect.properties",
        _config(instance),
        kafka_port=instance.port("kafka"),
        instance=instance.name,
        host=bind_host(),
        port=instance.port("connect"),
        plugins=plugins,
    )


def _healthy(instance: Instance) -> bool:
    plugins = get_json(f"{instance.url('connect')}/connector-plugins")
    return bool(plugins) and any("S3SinkConnector" in p.get("class", "") for p in plugins)


SERVICE = Service(
    name="connect",
    port="connect",
    healthy=_healthy,
    prepare=_prepare,
    prerequisites=_prerequisites,
    command=lambda i: kafka_java(
        i, "org.apache.kafka.connect.cli.ConnectDistributed", str(_config(i)), heap="512m", log_name="connect"
    ),
    needs=("kafka", "s3"),
    start_timeout_s=120,
)
