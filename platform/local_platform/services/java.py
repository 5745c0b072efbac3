"""The JVM services' shared parts: the JDK check and a ``java`` command line with the platform's logging."""

from __future__ import annotations

import shutil
import subprocess

from local_platform.instance import CACHE, Instance, PlatformError
from local_platform.service import render

KAFKA_JARS = CACHE / "jars" / "kafka"
S3PROXY_JAR = CACHE / "jars" / "s3proxy" / "s3proxy.jar"


def require_jdk() -> None:
    java = shutil.which("java")
    if not java:
        raise PlatformError("no `java` on PATH: install a JDK 17 or newer (Debian: apt-get install openjdk-17-jdk)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    version = out.split('"')[1] if '"' in out else "0"
    major = int(version.split(".")[0]) if version.split(".")[0].isdigit() else 0
    if major < 17:
        raise PlatformError(f"Java {version} found; the platform needs JDK 17 or newer")


def require_kafka_jars() -> None:
    require_jdk()
    if not any(KAFKA_JARS.glob("kafka_2.13-*.jar")):
        raise PlatformError("the platform's jars are not downloaded: run `make setup`")


def kafka_java(instance: Instance, main: str, *args: str, heap: str, log_name: str) -> list[str]:
    """A Kafka-distribution JVM (broker, Connect, tools) logging through the platform's log4j2 template."""
    log4j = render("log4j2.properties", instance.path("conf", "log4j2.properties"))
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
