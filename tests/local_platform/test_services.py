"""The platform's service registry and instances, without starting anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_platform import services
from local_platform.environment import client_env
from local_platform.instance import Instance, PlatformError, bind_host, instance_for
from local_platform.service import render


def test_dependencies_start_first_and_each_service_once():
    order = services.ordered(["airflow-triggerer", "ingest-api"])
    assert order.index("kafka") < order.index("connect") < order.index("airflow-api") < order.index("airflow-triggerer")
    assert order.index("postgres") < order.index("airflow-api")
    assert order.index("kinesis") < order.index("ingest-api")
    assert len(order) == len(set(order))


def test_what_up_starts_is_a_property_of_each_service():
    airflow = {"airflow-api", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"}
    assert airflow <= set(services.autostarted("dev")) and not airflow & set(services.autostarted("test"))
    assert "postgres" in services.autostarted("test")
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
        render("s3proxy.properties", tmp_path / "s3proxy.properties", host="127.0.0.1", port=1)


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


def test_services_listen_on_loopback_unless_asked_otherwise(monkeypatch):
    assert bind_host() == "127.0.0.1"
    monkeypatch.setenv("PINTEREST_BIND_HOST", "0.0.0.0")
    assert bind_host() == "0.0.0.0"
    monkeypatch.setenv("PINTEREST_BIND_HOST", "10.0.0.7")
    with pytest.raises(PlatformError, match=r"PINTEREST_BIND_HOST must be 127\.0\.0\.1 .* or 0\.0\.0\.0"):
        bind_host()


def test_the_database_password_is_in_no_environment_variable(tmp_path):
    instance = Instance("test", tmp_path)
    env = client_env(instance)
    password = (tmp_path / "secrets" / "postgres-password").read_text()
    assert not any(password in value for value in env.values())
    url_file = Path(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD"].removeprefix("cat "))
    assert password in url_file.read_text() and url_file.stat().st_mode & 0o077 == 0


def test_local_spark_reaches_the_lake_through_s3a_on_the_platform_store(tmp_path, monkeypatch):
    from include.pinterest.lake import Lake
    from include.pinterest.settings import Settings
    from include.pinterest.spark.session import s3a_conf

    env = client_env(Instance("test", tmp_path))
    monkeypatch.delenv("PINTEREST_LAKE_ROOT", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert Lake.of(Settings(), "spark").root == f"s3a://{env['PINTEREST_BUCKET']}"  # as s3:// on Databricks
    conf = s3a_conf(env["S3_ENDPOINT_URL"])
    assert conf["spark.hadoop.fs.s3a.endpoint"] == env["S3_ENDPOINT_URL"]
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"


def test_a_checkout_the_postgres_user_cannot_enter_is_refused_naming_the_folder():
    """As root the server runs as `postgres`; a folder closed to other users (mode 700, like /root) is named."""
    import pwd
    import re
    import shutil
    import tempfile

    from local_platform.instance import PlatformError
    from local_platform.services.postgres import _check_reachable

    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("no postgres user on this machine")
    base = Path(tempfile.mkdtemp(dir="/tmp"))  # pytest's own tmp folders are closed to other users
    try:
        base.chmod(0o755)
        closed = base / "closed"
        (closed / "repo").mkdir(parents=True)
        closed.chmod(0o700)
        message = rf"cannot enter {re.escape(str(closed))} \(mode 700\).*chmod o\+x {re.escape(str(closed))}"
        with pytest.raises(PlatformError, match=message):
            _check_reachable(closed / "repo" / ".state")
        closed.chmod(0o711)
        _check_reachable(closed / "repo" / ".state")
    finally:
        shutil.rmtree(base)
