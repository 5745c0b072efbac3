"""``make aws-deploy``'s own steps against emulators: moto server for CloudFormation (stack outputs), S3 (the
bundle upload and its object versions), Secrets Manager (the connections) and API Gateway (the API key); MWAA
and MSK Connect, which moto lacks, answered by botocore's Stubber, which checks every call and answer against
the service models. The CDK CLI is replaced by a stand-in that records what it was asked and publishes the
stacks' outputs through moto's CloudFormation, so what is proven is the command's own logic: the order, the
second-run no-op, that a changed bundle reaches MWAA as new object versions, and that no secret is printed.
"""

from __future__ import annotations

import datetime
import json
import logging
import socket

import boto3
import pytest
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer

from pinterest_infra import config as config_module
from pinterest_infra import deploy

from .conftest import write_config

REGION = "us-east-1"
PLUGIN_ARN = "arn:aws:kafkaconnect:us-east-1:123456789012:custom-plugin/pinterest-confluent-s3-sink/0a1b2c3d-1"
DATABRICKS_TOKEN = "dapi" + "0123456789abcdef" * 2  # a stand-in: the test checks it is never printed
SOURCE_URL = "mysql+pymysql://reader:s3cr3t-pw@source.example.internal:3306/pinterest"


def _free_port() -> int:
    for port in range(45100, 45999):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port in 45100-45999")


@pytest.fixture(scope="module")
def moto_endpoint():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch):
    for key in (
        "AWS_PROFILE",
        "AWS_ENDPOINT_URL",
        "DATABRICKS_TOKEN",
        "PINTEREST_SOURCE_URL",
        "PINTEREST_TOPIC_PREFIX",
        "PINTEREST_BUCKET",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


class FakeCdk:
    """Stands in for the CDK CLI: 'deploys' a stack by publishing its outputs as a moto CloudFormation stack."""

    def __init__(self, config, client):
        self.config, self.client = config, client
        self.calls: list[tuple] = []
        self.deployed: dict[str, str] = {}  # stack -> the inputs it was deployed with
        names = config.stack_names
        self.names = names

    def _outputs(self, stack: str, versions) -> dict[str, str]:
        names, c = self.names, self.config
        if stack == names["network"]:
            return {
                "VpcId": "vpc-0123456789abcdef0",
                "PrivateSubnetA": "subnet-0123456789abcdef0",
                "PrivateSubnetB": "subnet-0fedcba9876543210",
                "SecurityGroupId": "sg-0123456789abcdef0",
            }
        if stack == names["data"]:
            s3 = self.client("s3")
            s3.create_bucket(Bucket=c.source_bucket)
            s3.put_bucket_versioning(Bucket=c.source_bucket, VersioningConfiguration={"Status": "Enabled"})
            return {
                "LakeBucket": c.lake_bucket,
                "SourceBucket": c.source_bucket,
                "MskClusterArn": f"arn:aws:kafka:{REGION}:{c.account}:cluster/{c.msk_cluster_name}/0a1b-2",
                "MskClusterName": c.msk_cluster_name,
                "BootstrapBrokersIam": "b-1.pinterestmsk.abc.c2.kafka.us-east-1.amazonaws.com:9098,"
                "b-2.pinterestmsk.abc.c2.kafka.us-east-1.amazonaws.com:9098",
                "S3SinkPluginArn": PLUGIN_ARN,
                "ConnectorRoleName": c.connector_role_name,
                "ConnectorRoleArn": f"arn:aws:iam::{c.account}:role/{c.connector_role_name}",
                "ConnectorLogGroup": c.connector_log_group,
                "DatabricksInstanceProfileArn": f"arn:aws:iam::{c.account}:instance-profile/pinterest-databricks",
                "MwaaExecutionRoleArn": f"arn:aws:iam::{c.account}:role/pinterest-mwaa-execution",
            }
        if stack == names["ingest"]:
            apigateway = self.client("apigateway")
            keys = apigateway.get_api_keys(nameQuery="pinterest-ingest")["items"]
            key_id = keys[0]["id"] if keys else apigateway.create_api_key(name="pinterest-ingest", enabled=True)["id"]
            return {
                "ApiUrl": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/",
                "ApiKeyId": key_id,
                "IngestFunctionName": "pinterest-ingest-api",
            }
        return {
            "EnvironmentName": c.environment_name,
            "WebserverUrl": "https://example.airflow.amazonaws.com",
        }

    def _inputs(self, stack, versions) -> str:
        return json.dumps(
            {"config": repr(self.config), "versions": versions if stack == self.names["airflow"] else None},
            sort_keys=True,
        )

    def bootstrap(self, account, region):
        self.calls.append(("bootstrap", (account, region), None))

    def diff(self, stacks, versions):
        self.calls.append(("diff", tuple(stacks), versions))
        return any(self.deployed.get(s) != self._inputs(s, versions) for s in stacks)

    def deploy(self, stacks, versions):
        self.calls.append(("deploy", tuple(stacks), versions))
        cloudformation = self.client("cloudformation")
        for stack in stacks:
            outputs = self._outputs(stack, versions)
            template = {
                "Resources": {"Marker": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                "Outputs": {k: {"Value": v} for k, v in outputs.items()},
            }
            if stack in self.deployed:
                cloudformation.update_stack(StackName=stack, TemplateBody=json.dumps(template))
            else:
                cloudformation.create_stack(StackName=stack, TemplateBody=json.dumps(template))
            self.deployed[stack] = self._inputs(stack, versions)

    def destroy(self, stacks):
        self.calls.append(("destroy", tuple(stacks), None))
        for stack in stacks:
            self.client("cloudformation").delete_stack(StackName=stack)
            self.deployed.pop(stack, None)


def stubbed_clients(endpoint: str, runs: int, environment: str = "pinterest"):
    """Real clients on moto server, and Stubber-backed MWAA and MSK Connect clients with ``runs`` answers."""
    session = boto3.session.Session(region_name=REGION)
    mwaa = session.client("mwaa")
    kafkaconnect = session.client("kafkaconnect")
    stubs = {"mwaa": Stubber(mwaa), "kafkaconnect": Stubber(kafkaconnect)}
    for _ in range(runs):
        stubs["kafkaconnect"].add_response(
            "describe_custom_plugin",
            {
                "customPluginArn": PLUGIN_ARN,
                "name": "pinterest-confluent-s3-sink",
                "customPluginState": "ACTIVE",
                "creationTime": datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
            },
            {"customPluginArn": PLUGIN_ARN},
        )
        stubs["mwaa"].add_response(
            "get_environment",
            {
                "Environment": {
                    "Name": environment,
                    "Status": "AVAILABLE",
                    "AirflowVersion": "3.3.1",
                    "WebserverUrl": "0a1b2c3d-4e5f.c2.airflow.us-east-1.on.aws",
                    "Arn": f"arn:aws:airflow:us-east-1:123456789012:environment/{environment}",
                }
            },
            {"Name": environment},
        )
    for stub in stubs.values():
        stub.activate()
    real = {
        name: session.client(name, endpoint_url=endpoint)
        for name in ("cloudformation", "s3", "secretsmanager", "apigateway")
    }
    clients = {**real, "mwaa": mwaa, "kafkaconnect": kafkaconnect}
    return (lambda service: clients[service]), stubs


def test_deploy_twice_then_a_changed_bundle(moto_endpoint, aws_env, tmp_path, capsys):
    config = config_module.load(write_config(tmp_path / "config"))
    clients, stubs = stubbed_clients(moto_endpoint, runs=3)
    cdk = FakeCdk(config, clients)
    asked = []

    def ask(variable, what):
        asked.append(variable)
        return {"DATABRICKS_TOKEN": DATABRICKS_TOKEN, "PINTEREST_SOURCE_URL": SOURCE_URL}[variable]

    first = deploy.deploy(config, cdk, clients, ask=ask, dist=tmp_path / "dist1")
    out1 = capsys.readouterr().out
    assert first.changed
    assert sorted(asked) == ["DATABRICKS_TOKEN", "PINTEREST_SOURCE_URL"]
    assert [c[0] for c in cdk.calls] == ["bootstrap", "diff", "deploy", "diff", "deploy"]
    s3, secrets = clients("s3"), clients("secretsmanager")
    versions = {key: s3.head_object(Bucket=config.source_bucket, Key=key)["VersionId"] for key in deploy.VERSION_KEYS}
    assert cdk.calls[-1] == ("deploy", ("pinterest-airflow",), versions), "MWAA is pointed at the uploaded versions"
    startup = s3.get_object(Bucket=config.source_bucket, Key="startup.sh")["Body"].read().decode()
    assert 'export PINTEREST_S3_SINK_CUSTOM_PLUGIN_ARN="' + PLUGIN_ARN + '"' in startup
    assert 'export PINTEREST_SUBNET_ID_B="subnet-0fedcba9876543210"' in startup and "@@" not in startup
    for conn_id in deploy.CONNECTION_IDS:
        assert f"airflow/connections/{conn_id}: created" in out1
    kafka = json.loads(secrets.get_secret_value(SecretId="airflow/connections/pinterest_kafka")["SecretString"])
    assert kafka["extra"]["bootstrap.servers"].endswith(":9098")
    api = json.loads(secrets.get_secret_value(SecretId="airflow/connections/pinterest_ingest_api")["SecretString"])
    api_key = clients("apigateway").get_api_keys(includeValues=True)["items"][0]["value"]
    assert api == {
        "conn_type": "http",
        "host": "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod",
        "password": api_key,
    }
    assert "MWAA UI: https://0a1b2c3d-4e5f.c2.airflow.us-east-1.on.aws" in out1

    cdk.calls.clear()
    asked.clear()
    second = deploy.deploy(config, cdk, clients, ask=ask, dist=tmp_path / "dist2")
    out2 = capsys.readouterr().out
    assert not second.changed and asked == []
    assert [c[0] for c in cdk.calls] == ["bootstrap", "diff", "diff"], "nothing deployed on the second run"
    assert "0 uploaded, 0 deleted" in out2
    assert all(f"airflow/connections/{c}: unchanged" in out2 for c in deploy.CONNECTION_IDS)
    assert "result: nothing changed" in out2

    changed = config_module.load(write_config(tmp_path / "config2", git_branch="release"))
    cdk.config = changed
    cdk.calls.clear()
    third = deploy.deploy(changed, cdk, clients, ask=ask, dist=tmp_path / "dist3")
    out3 = capsys.readouterr().out
    new_startup = s3.head_object(Bucket=config.source_bucket, Key="startup.sh")["VersionId"]
    assert third.changed and new_startup != versions["startup.sh"]
    assert cdk.calls[-1][0] == "deploy" and cdk.calls[-1][2]["startup.sh"] == new_startup
    assert cdk.calls[-1][2]["plugins.zip"] == versions["plugins.zip"], "an unchanged file keeps its version"

    for stub in stubs.values():
        stub.assert_no_pending_responses()
    for secret in (DATABRICKS_TOKEN, "s3cr3t-pw", api_key, "testing"):
        assert secret not in out1 + out2 + out3


def test_destroy_removes_the_stacks_and_secrets_and_keeps_data_unless_asked(moto_endpoint, aws_env, tmp_path, capsys):
    config = config_module.load(write_config(tmp_path / "config", prefix="destroyme"))
    clients, _ = stubbed_clients(moto_endpoint, runs=1, environment="destroyme")
    cdk = FakeCdk(config, clients)
    deploy.deploy(
        config,
        cdk,
        clients,
        ask=lambda v, w: {"DATABRICKS_TOKEN": "x", "PINTEREST_SOURCE_URL": SOURCE_URL}[v],
        dist=tmp_path / "dist",
    )
    deploy.destroy(config, cdk, clients, delete_data=False)
    assert cdk.calls[-1] == (
        "destroy",
        tuple(config.stack_names[p] for p in ("airflow", "ingest", "data", "network")),
        None,
    )
    names = {s["Name"] for s in clients("secretsmanager").list_secrets()["SecretList"]}
    assert not any(n.startswith("airflow/connections/") for n in names)
    assert config.source_bucket in {b["Name"] for b in clients("s3").list_buckets()["Buckets"]}
    deploy.destroy(config, cdk, clients, delete_data=True)
    assert config.source_bucket not in {b["Name"] for b in clients("s3").list_buckets()["Buckets"]}


def test_a_missing_secret_without_a_terminal_names_its_variable(monkeypatch):
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    with open("/dev/null") as no_terminal:
        monkeypatch.setattr("sys.stdin", no_terminal)
        with pytest.raises(deploy.DeployError, match="set DATABRICKS_TOKEN"):
            deploy.ask_secret("DATABRICKS_TOKEN", "Databricks token")


def test_the_command_rejects_a_broken_config_with_exit_2(tmp_path, capsys):
    path = write_config(tmp_path, account="nope")
    assert deploy.main(["deploy", "--config", str(path)]) == 2
    assert "account: must be a 12-digit AWS account id" in capsys.readouterr().err
