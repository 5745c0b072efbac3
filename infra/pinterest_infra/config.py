"""The one deployment configuration: ``infra/aws.toml``, read into typed, validated values.

Every rule is checked when the file is read, and every error names the field (``msk.broker_count``) and the
rule it broke, so a wrong value never reaches CloudFormation. Names that are not given are derived from the
topic prefix and the account, so the example file plus an account id and a connector zip is a complete
configuration. The file holds no secret: the Databricks token and the source database URL are asked for by
``make aws-deploy`` (or read from its environment) and go to Secrets Manager only.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from include.pinterest.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = REPO / "infra" / "aws.toml"
EXAMPLE_CONFIG = REPO / "infra" / "aws.example.toml"

ACCOUNT = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
# Topic prefix: part of Kafka topic, Kinesis stream, bucket and IAM names, so the strictest of their alphabets.
PREFIX = re.compile(r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$")
BUCKET = re.compile(r"^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
MWAA_NAME = re.compile(r"^[a-zA-Z][0-9a-zA-Z_-]{0,79}$")
VPC_ID = re.compile(r"^vpc-[0-9a-f]{8,17}$")
SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")
CIDR = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})/(\d{1,2})$")
HTTPS_URL = re.compile(r"^https://[A-Za-z0-9.-]+(:\d+)?(/[^\s]*)?$")
MWAA_CLASSES = ("mw1.micro", "mw1.small", "mw1.medium", "mw1.large", "mw1.xlarge", "mw1.2xlarge")
WEBSERVER_ACCESS = ("PUBLIC_ONLY", "PRIVATE_ONLY")
GIT_PROVIDERS = (
    "gitHub",
    "gitHubEnterprise",
    "bitbucketCloud",
    "bitbucketServer",
    "gitLab",
    "gitLabEnterpriseEdition",
    "azureDevOpsServices",
    "awsCodeCommit",
)
AIRFLOW_VERSION = "3.3.1"
# Where MWAA's Secrets Manager backend reads Airflow connections and variables (the stack sets the backend,
# the deploy writes the connections, the execution role may read exactly these).
CONNECTIONS_PREFIX = "airflow/connections"
VARIABLES_PREFIX = "airflow/variables"


class ConfigError(ValueError):
    """The configuration breaks a rule; ``problems`` lists every ``field: rule`` found, not only the first."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}: {len(problems)} problem(s)\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass(frozen=True)
class Network:
    """A new VPC (``cidr``, ``nat_gateways``) or an existing one (``vpc_id`` + exactly two private subnets)."""

    cidr: str = "10.42.0.0/16"
    nat_gateways: int = 1
    vpc_id: str | None = None
    private_subnet_ids: tuple[str, ...] = ()
    availability_zones: tuple[str, ...] = ()
    # An RDS source database in that VPC: its security group admits the platform's on the database port.
    source_database_security_group_id: str | None = None
    source_database_port: int = 3306

    @property
    def existing(self) -> bool:
        return self.vpc_id is not None


@dataclass(frozen=True)
class Msk:
    kafka_version: str = "3.9.x"
    instance_type: str = "kafka.m7g.large"
    broker_count: int = 2
    volume_gb: int = 100


@dataclass(frozen=True)
class Kinesis:
    shard_count: int = 1
    retention_hours: int = 24


@dataclass(frozen=True)
class Mwaa:
    environment_name: str = ""
    environment_class: str = "mw1.small"
    min_workers: int = 1
    max_workers: int = 2
    webserver_access: str = "PUBLIC_ONLY"


@dataclass(frozen=True)
class Connector:
    plugin_zip: Path = Path()


@dataclass(frozen=True)
class Databricks:
    host: str = ""
    git_url: str = ""
    git_branch: str = "main"
    git_provider: str = "gitHub"


@dataclass(frozen=True)
class Api:
    stage: str = "prod"
    rate_limit: int = 1000
    burst_limit: int = 2000


@dataclass(frozen=True)
class DeployConfig:
    """Everything ``infra/`` needs to build the AWS side; derived names are properties."""

    account: str
    region: str
    prefix: str
    connector: Connector
    databricks: Databricks
    network: Network = field(default_factory=Network)
    msk: Msk = field(default_factory=Msk)
    kinesis: Kinesis = field(default_factory=Kinesis)
    mwaa: Mwaa = field(default_factory=Mwaa)
    api: Api = field(default_factory=Api)
    lake_bucket_name: str = ""
    source_bucket_name: str = ""

    @property
    def lake_bucket(self) -> str:
        return self.lake_bucket_name or f"{self.prefix}-lake-{self.account}-{self.region}"

    @property
    def source_bucket(self) -> str:
        """MWAA's versioned source bucket; MWAA requires the name to start with ``airflow-``."""
        return self.source_bucket_name or f"airflow-{self.prefix}-{self.account}-{self.region}"

    @property
    def log_bucket(self) -> str:
        return f"{self.prefix}-access-logs-{self.account}-{self.region}"

    @property
    def environment_name(self) -> str:
        return self.mwaa.environment_name or self.prefix

    @property
    def msk_cluster_name(self) -> str:
        return f"{self.prefix}-msk"

    @property
    def connector_name(self) -> str:
        """The pipeline's own name for its S3 sink (``Settings`` is its one home)."""
        return Settings(topic_prefix=self.prefix).s3_sink_connector

    @property
    def connector_role_name(self) -> str:
        return f"{self.prefix}-s3-sink-connector"

    @property
    def connector_log_group(self) -> str:
        return f"/msk-connect/{self.connector_name}"

    @property
    def stack_names(self) -> dict[str, str]:
        """The stacks in deployment order (``airflow`` last: MWAA needs the bundle in the source bucket)."""
        return {part: f"{self.prefix}-{part}" for part in ("network", "data", "ingest", "airflow")}


# ------------------------------------------------------------------------------------------------ reading

_SECTIONS = {
    "network": Network,
    "msk": Msk,
    "kinesis": Kinesis,
    "mwaa": Mwaa,
    "connector": Connector,
    "databricks": Databricks,
    "api": Api,
}
_TOP = {"account", "region", "prefix", "lake_bucket", "source_bucket", *_SECTIONS}


def load(path: Path | str = DEFAULT_CONFIG) -> DeployConfig:
    """Read and validate ``path``; relative paths inside it (the connector zip) are relative to the file."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), [f"file not found: copy {EXAMPLE_CONFIG.relative_to(REPO)} to it and fill it in"])
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(str(path), [f"not valid TOML: {error}"]) from None
    return parse(raw, base=path.parent, source=str(path))


def parse(raw: dict[str, Any], base: Path = REPO, source: str = "config") -> DeployConfig:
    problems: list[str] = []
    for key in sorted(set(raw) - _TOP):
        problems.append(f"{key}: unknown field (known: {', '.join(sorted(_TOP))})")

    def text(name: str, value: Any, pattern: re.Pattern | None, rule: str) -> str:
        if not isinstance(value, str) or not value:
            problems.append(f"{name}: required, a non-empty string")
            return ""
        if pattern is not None and not pattern.match(value):
            problems.append(f"{name}: {rule}, got {value!r}")
        return value

    account = text("account", raw.get("account"), ACCOUNT, "must be a 12-digit AWS account id")
    region = text("region", raw.get("region"), REGION, "must be an AWS region name such as us-east-1")
    prefix = text(
        "prefix",
        raw.get("prefix"),
        PREFIX,
        "must be 3-24 characters of a-z, 0-9 and '-', starting with a letter (it names topics, "
        "streams, buckets and roles)",
    )
    sections = {name: _section(name, cls, raw.get(name, {}), problems) for name, cls in _SECTIONS.items()}
    lake = raw.get("lake_bucket", "")
    source_bucket = raw.get("source_bucket", "")
    if lake:
        text("lake_bucket", lake, BUCKET, "must be a valid S3 bucket name (3-63 of a-z, 0-9, '.', '-')")
    if source_bucket:
        text("source_bucket", source_bucket, BUCKET, "must be a valid S3 bucket name")
        if not source_bucket.startswith("airflow-"):
            problems.append(f"source_bucket: must start with 'airflow-' (MWAA's rule), got {source_bucket!r}")

    network: Network = sections["network"]
    _check_network(network, problems)
    msk: Msk = sections["msk"]
    if not re.match(r"^\d+\.\d+(\.\d+|\.x)?(\.kraft)?$", msk.kafka_version):
        problems.append(f"msk.kafka_version: must be an MSK Kafka version such as 3.9.x, got {msk.kafka_version!r}")
    if not msk.instance_type.startswith("kafka."):
        problems.append(f"msk.instance_type: must be an MSK broker type (kafka.*), got {msk.instance_type!r}")
    if msk.broker_count < 2 or msk.broker_count % 2:
        problems.append(
            f"msk.broker_count: must be a positive multiple of 2 (one per private subnet), got {msk.broker_count}"
        )
    if not 1 <= msk.volume_gb <= 16384:
        problems.append(f"msk.volume_gb: must be 1-16384, got {msk.volume_gb}")
    kinesis: Kinesis = sections["kinesis"]
    if not 1 <= kinesis.shard_count <= 100:
        problems.append(f"kinesis.shard_count: must be 1-100, got {kinesis.shard_count}")
    if not 24 <= kinesis.retention_hours <= 8760:
        problems.append(f"kinesis.retention_hours: must be 24-8760, got {kinesis.retention_hours}")
    mwaa: Mwaa = sections["mwaa"]
    if mwaa.environment_name and not MWAA_NAME.match(mwaa.environment_name):
        problems.append(
            f"mwaa.environment_name: must be a letter then up to 79 of a-z, A-Z, 0-9, '_', '-', "
            f"got {mwaa.environment_name!r}"
        )
    if mwaa.environment_class not in MWAA_CLASSES:
        problems.append(
            f"mwaa.environment_class: must be one of {', '.join(MWAA_CLASSES)}, got {mwaa.environment_class!r}"
        )
    if not 1 <= mwaa.min_workers <= mwaa.max_workers <= 25:
        problems.append(
            f"mwaa.min_workers/max_workers: must satisfy 1 <= min <= max <= 25, got "
            f"{mwaa.min_workers}/{mwaa.max_workers}"
        )
    if mwaa.webserver_access not in WEBSERVER_ACCESS:
        problems.append(
            f"mwaa.webserver_access: must be one of {', '.join(WEBSERVER_ACCESS)}, got {mwaa.webserver_access!r}"
        )
    connector: Connector = sections["connector"]
    zip_path = connector.plugin_zip
    if str(zip_path) in ("", "."):
        problems.append(
            "connector.plugin_zip: required, the path of Confluent's S3 sink zip "
            "(confluentinc-kafka-connect-s3-<version>.zip)"
        )
    else:
        zip_path = zip_path if zip_path.is_absolute() else (base / zip_path).resolve()
        if zip_path.suffix != ".zip":
            problems.append(f"connector.plugin_zip: must be a .zip file, got {str(connector.plugin_zip)!r}")
        elif not zip_path.is_file():
            problems.append(f"connector.plugin_zip: file not found: {zip_path}")
        connector = Connector(plugin_zip=zip_path)
    databricks: Databricks = sections["databricks"]
    if not HTTPS_URL.match(databricks.host):
        problems.append(
            f"databricks.host: must be the workspace URL, https://<workspace>.cloud.databricks.com, "
            f"got {databricks.host!r}"
        )
    if not HTTPS_URL.match(databricks.git_url):
        problems.append(f"databricks.git_url: must be the https URL of this repository, got {databricks.git_url!r}")
    if databricks.git_provider not in GIT_PROVIDERS:
        problems.append(
            f"databricks.git_provider: must be one of {', '.join(GIT_PROVIDERS)}, got {databricks.git_provider!r}"
        )
    if not re.match(r"^[A-Za-z0-9._/-]+$", databricks.git_branch):
        problems.append(f"databricks.git_branch: must be a branch name, got {databricks.git_branch!r}")
    api: Api = sections["api"]
    if not re.match(r"^[A-Za-z0-9_]{1,128}$", api.stage):
        problems.append(f"api.stage: must be 1-128 of A-Z, a-z, 0-9, '_', got {api.stage!r}")
    if not 1 <= api.rate_limit <= api.burst_limit <= 100_000:
        problems.append(
            f"api.rate_limit/burst_limit: must satisfy 1 <= rate <= burst <= 100000, got "
            f"{api.rate_limit}/{api.burst_limit}"
        )

    if problems:
        raise ConfigError(source, problems)
    config = DeployConfig(
        account=account,
        region=region,
        prefix=prefix,
        connector=connector,
        databricks=databricks,
        network=network,
        msk=msk,
        kinesis=kinesis,
        mwaa=mwaa,
        api=api,
        lake_bucket_name=lake,
        source_bucket_name=source_bucket,
    )
    for name, bucket in (("lake_bucket", config.lake_bucket), ("source_bucket", config.source_bucket)):
        if len(bucket) > 63:
            raise ConfigError(
                source,
                [
                    f"{name}: the derived name {bucket!r} is longer than 63 characters: "
                    f"set {name} explicitly or shorten prefix"
                ],
            )
    return config


def _section(name: str, cls: type, raw: Any, problems: list[str]) -> Any:
    """One table of the file into ``cls``: unknown keys and wrong types are problems, missing keys defaults."""
    if not isinstance(raw, dict):
        problems.append(f"{name}: must be a table ([{name}])")
        return cls()
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            problems.append(f"{name}.{key}: unknown field (known: {', '.join(sorted(known))})")
            continue
        default = getattr(cls(), key)
        expected = type(default) if default is not None else str
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                problems.append(f"{name}.{key}: must be a list of strings")
                continue
            value = tuple(value)
        elif isinstance(default, Path):
            if not isinstance(value, str):
                problems.append(f"{name}.{key}: must be a path string")
                continue
            value = Path(value)
        elif expected is int and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"{name}.{key}: must be an integer, got {value!r}")
            continue
        elif expected is str and not isinstance(value, str):
            problems.append(f"{name}.{key}: must be a string, got {value!r}")
            continue
        values[key] = value
    return cls(**values)


def _check_network(network: Network, problems: list[str]) -> None:
    if not 1 <= network.source_database_port <= 65535:
        problems.append(
            f"network.source_database_port: must be a TCP port (1-65535), got {network.source_database_port}"
        )
    if network.source_database_security_group_id is not None:
        if not network.existing:
            problems.append(
                "network.source_database_security_group_id: only with network.vpc_id (the database's VPC); "
                "a database outside it is reached through the NAT egress by its address"
            )
        if not SECURITY_GROUP_ID.match(network.source_database_security_group_id):
            problems.append(
                "network.source_database_security_group_id: must be a security group id (sg-...), "
                f"got {network.source_database_security_group_id!r}"
            )
    if network.existing:
        if not VPC_ID.match(network.vpc_id or ""):
            problems.append(f"network.vpc_id: must be a VPC id (vpc-...), got {network.vpc_id!r}")
        if len(network.private_subnet_ids) != 2 or not all(SUBNET_ID.match(s) for s in network.private_subnet_ids):
            problems.append(
                "network.private_subnet_ids: with vpc_id, exactly two private subnet ids (subnet-...) "
                f"are required (MWAA uses exactly two), got {list(network.private_subnet_ids)}"
            )
        if len(network.availability_zones) != 2 or len(set(network.availability_zones)) != 2:
            problems.append(
                "network.availability_zones: with vpc_id, the two distinct zones of the two subnets, "
                f"in the same order, got {list(network.availability_zones)}"
            )
        return
    if network.private_subnet_ids or network.availability_zones:
        problems.append("network.private_subnet_ids/availability_zones: only with network.vpc_id (an existing VPC)")
    match = CIDR.match(network.cidr)
    if not match or any(int(g) > 255 for g in match.groups()[:4]) or not 16 <= int(match.group(5)) <= 22:
        problems.append(f"network.cidr: must be an IPv4 CIDR block from /16 to /22, got {network.cidr!r}")
    if network.nat_gateways not in (1, 2):
        problems.append(
            f"network.nat_gateways: must be 1 or 2 (one per AZ for zone-independent egress), got {network.nat_gateways}"
        )
