"""The S3-compatible object store: S3Proxy with its filesystem backend (objects are files under data/s3)."""

from __future__ import annotations

import urllib.error
import urllib.request

from local_platform.instance import Instance, PlatformError, bind_host
from local_platform.service import Service, render
from local_platform.services.java import S3PROXY_JAR, require_jdk


def _config(instance: Instance):
    return instance.path("conf", "s3proxy.properties")


def _prerequisites() -> None:
    require_jdk()
    if not S3PROXY_JAR.exists():
        raise PlatformError("the platform's jars are not downloaded: run `make setup`")


def _prepare(instance: Instance) -> None:
    data = instance.path("data", "s3")
    data.mkdir(parents=True, exist_ok=True)
    render("s3proxy.properties", _config(instance), host=bind_host(), port=instance.port("s3"), data=data)


def _healthy(instance: Instance) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{instance.port('s3')}/", timeout=2) as response:
            return response.status == 200
    except urllib.error.HTTPError as error:
        return error.code < 500
    except OSError:
        return False


SERVICE = Service(
    name="s3",
    port="s3",
    healthy=_healthy,
    prepare=_prepare,
    prerequisites=_prerequisites,
    command=lambda i: ["java", "-Xmx256m", "-jar", str(S3PROXY_JAR), "--properties", str(_config(i))],
)
