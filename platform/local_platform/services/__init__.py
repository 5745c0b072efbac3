"""The platform's services, one module each, in a registry ordered so that dependencies come first."""

from __future__ import annotations

from local_platform.instance import PlatformError
from local_platform.service import Service
from local_platform.services import airflow, connect, ingest_api, kafka, kinesis, postgres, s3, spark, stream

SERVICES: dict[str, Service] = {
    service.name: service
    for service in (
        *(module.SERVICE for module in (s3, kinesis, kafka, connect, ingest_api, spark, stream, postgres)),
        *airflow.SERVICES,
    )
}


def get(name: str) -> Service:
    if name not in SERVICES:
        raise PlatformError(f"unknown service {name!r}; known: {', '.join(SERVICES)}")
    return SERVICES[name]


def autostarted(instance_name: str) -> list[str]:
    """What ``up`` starts on this instance when no ``--services`` are named."""
    return [name for name, service in SERVICES.items() if instance_name in service.autostart]


def ordered(names: list[str]) -> list[str]:
    """``names`` and their dependencies in start order (dependencies first)."""
    result: list[str] = []

    def visit(name: str) -> None:
        for dependency in get(name).needs:
            visit(dependency)
        if name not in result:
            result.append(name)

    for name in names:
        visit(name)
    return result
