"""The platform's service registry and instances, without starting anything."""

from __future__ import annotations

import pytest

from local_platform import services
from local_platform.environment import client_env
from local_platform.instance import Instance, PlatformError, instance_for
from local_platform.service import render


def test_dependencies_start_first_and_each_service_once():
    order = services.ordered(["airflow", "ingest-api"])
    assert order.index("kafka") < order.index("connect") < order.index("airflow")
    assert order.index("kinesis") < order.index("ingest-api")
    assert len(order) == len(set(order))


def test_what_up_starts_is_a_property_of_each_service():
    assert "airflow" in services.autostarted("dev") and "airflow" not in services.autostarted("test")
    assert all("stream" not in services.autostarted(name) for name in ("dev", "test", "bench"))


def test_instances_never_share_a_port_and_the_offset_shifts_them_all(monkeypatch, tmp_path):
    ports = {name: Instance(name, tmp_path).port("kafka") for name in ("dev", "test", "bench")}
    assert len(set(ports.values())) == 3
    monkeypatch.setenv("PINTEREST_PORT_OFFSET", "2000")
    assert Instance("test", tmp_path).port("kafka") == ports["test"] + 2000


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(PlatformError, match="known: s3, kinesis"):
        services.get("minio")
    with pytest.raises(PlatformError, match="dev, test, bench"):
        instance_for("prod")


def test_a_template_with_an_unfilled_placeholder_is_an_error(tmp_path):
    with pytest.raises(KeyError, match="data"):
        render("s3proxy.properties", tmp_path / "s3proxy.properties", port=1)


def test_the_client_environment_holds_every_connection_the_dag_uses(tmp_path):
    env = client_env(Instance("test", tmp_path))
    assert {k for k in env if k.startswith("AIRFLOW_CONN_")} == {
        "AIRFLOW_CONN_PINTEREST_AWS",
        "AIRFLOW_CONN_PINTEREST_KAFKA",
        "AIRFLOW_CONN_PINTEREST_KAFKA_CONNECT",
        "AIRFLOW_CONN_PINTEREST_SOURCE",
        "AIRFLOW_CONN_PINTEREST_INGEST_API",
    }
    assert env["PINTEREST_PLATFORM_INSTANCE"] == "test" and (tmp_path / "secrets" / "ingest-api-key").exists()
