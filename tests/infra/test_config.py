"""infra/aws.toml: the example is valid, and every broken rule is reported with its field and rule."""

from __future__ import annotations

import pytest

from pinterest_infra import config as config_module
from pinterest_infra.config import ConfigError

from .conftest import write_config


def test_the_example_config_is_valid_and_derives_every_name(tmp_path):
    config = config_module.load(write_config(tmp_path))
    assert config.account == "123456789012" and config.region == "us-east-1"
    assert config.lake_bucket == "pinterest-lake-123456789012-us-east-1"
    assert config.source_bucket == "airflow-pinterest-123456789012-us-east-1"
    assert config.environment_name == "pinterest"
    assert config.connector.plugin_zip == tmp_path / "confluentinc-kafka-connect-s3-10.6.5.zip"
    assert list(config.stack_names.values()) == [
        "pinterest-network",
        "pinterest-data",
        "pinterest-ingest",
        "pinterest-airflow",
    ]


@pytest.mark.parametrize(
    "overrides, complaint",
    [
        ({"account": "12345"}, "account: must be a 12-digit AWS account id"),
        ({"region": "Europe"}, "region: must be an AWS region name"),
        ({"prefix": "Pinterest_1"}, "prefix: must be 3-24 characters"),
        ({"broker_count": 3}, "msk.broker_count: must be a positive multiple of 2"),
        ({"environment_class": "mw1.huge"}, "mwaa.environment_class: must be one of"),
        ({"webserver_access": "OPEN"}, "mwaa.webserver_access: must be one of"),
        ({"plugin_zip": "missing.zip"}, "connector.plugin_zip: file not found"),
        ({"plugin_zip": "connector.jar"}, "connector.plugin_zip: must be a .zip file"),
        ({"host": "http://dbc.example.com"}, "databricks.host: must be the workspace URL"),
        ({"shard_count": 0}, "kinesis.shard_count: must be 1-100"),
        ({"cidr": "10.42.0.0/8"}, "network.cidr: must be an IPv4 CIDR block from /16 to /22"),
        ({"nat_gateways": "one"}, "network.nat_gateways: must be an integer"),
    ],
)
def test_a_broken_rule_names_its_field(tmp_path, overrides, complaint):
    with pytest.raises(ConfigError) as caught:
        config_module.load(write_config(tmp_path, **overrides))
    assert any(complaint in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once_and_unknown_fields_are_problems(tmp_path):
    path = write_config(tmp_path, account="x", region="y")
    path.write_text(path.read_text() + "\n[msk]\nbrokers = 2\n".replace("[msk]", "[extra]"))
    with pytest.raises(ConfigError) as caught:
        config_module.load(path)
    text = str(caught.value)
    assert "account:" in text and "region:" in text and "extra: unknown field" in text


def _network_problems(network: dict) -> str:
    """The problems ``parse`` reports for a minimal valid config with this ``[network]`` table."""
    raw = {
        "account": "123456789012",
        "region": "us-east-1",
        "prefix": "pinterest",
        "connector": {"plugin_zip": __file__.replace(".py", ".zip")},
        "databricks": {"host": "https://dbc-1.cloud.databricks.com", "git_url": "https://github.com/o/r"},
        "network": network,
    }
    with pytest.raises(ConfigError) as caught:
        config_module.parse(raw)
    return "\n".join(caught.value.problems)


def test_an_existing_vpc_needs_exactly_two_subnets_and_their_zones():
    problems = _network_problems(
        {"vpc_id": "vpc-0123456789abcdef0", "private_subnet_ids": ["subnet-0123456789abcdef0"]}
    )
    assert "network.private_subnet_ids: with vpc_id, exactly two" in problems
    assert "network.availability_zones: with vpc_id" in problems


def test_a_source_database_security_group_needs_the_vpc_it_is_in():
    problems = _network_problems({"source_database_security_group_id": "db-group", "source_database_port": 70000})
    assert "network.source_database_security_group_id: only with network.vpc_id" in problems
    assert "network.source_database_security_group_id: must be a security group id (sg-...)" in problems
    assert "network.source_database_port: must be a TCP port (1-65535), got 70000" in problems


def test_a_missing_file_says_how_to_make_it(tmp_path):
    with pytest.raises(ConfigError, match=r"copy infra/aws\.example\.toml"):
        config_module.load(tmp_path / "aws.toml")
