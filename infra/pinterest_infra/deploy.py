"""``make aws-deploy`` / ``aws-diff`` / ``aws-destroy``: the whole AWS side in one command.

Deploy, in order (each step idempotent, so a second run with no change changes nothing and says so):

1. read and validate infra/aws.toml;
2. ``cdk diff`` then ``cdk deploy`` of the network, data and ingest stacks (CloudFormation's progress shown);
3. read the stacks' outputs; build the MWAA bundle with them as startup.sh's deployment facts;
4. sync the bundle to MWAA's versioned source bucket (only changed files; their object versions kept);
5. write the Airflow connections to Secrets Manager (``airflow/connections/<id>``) from the outputs: the API
   key is read from API Gateway and the Databricks token and source database URL from the environment or a
   prompt, and none of them is printed;
6. ``cdk diff`` then ``cdk deploy`` of the airflow stack with the bundle's object versions: a changed bundle is
   a changed template, so MWAA is updated to the new versions by CloudFormation, and an unchanged one is not;
7. print what exists, with the MWAA UI URL.

AWS access is boto3's default chain (and ``AWS_ENDPOINT_URL`` for emulators); credentials are never printed.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pinterest_infra import bundle
from pinterest_infra import config as config_module
from pinterest_infra.config import CONNECTIONS_PREFIX, DeployConfig

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / ".cache"
CDK_CLI = CACHE / "cdk-cli" / "node_modules" / ".bin" / "cdk"
INFRA_PYTHON = CACHE / "infra-venv" / "bin" / "python"
CDK_OUT = CACHE / "cdk.out"
DIST = REPO / "dist" / "mwaa"
CORE_STACKS = ("network", "data", "ingest")
VERSION_KEYS = (bundle.PLUGINS_KEY, bundle.REQUIREMENTS_KEY, bundle.STARTUP_KEY)
# The stack outputs this command reads (tests/infra/test_stacks.py checks the templates declare them).
OUTPUTS_READ = {
    "network": ("PrivateSubnetA", "PrivateSubnetB", "SecurityGroupId"),
    "data": (
        "LakeBucket",
        "SourceBucket",
        "MskClusterName",
        "BootstrapBrokersIam",
        "S3SinkPluginArn",
        "ConnectorRoleName",
        "ConnectorLogGroup",
        "DatabricksInstanceProfileArn",
        "MwaaExecutionRoleArn",
    ),
    "ingest": ("ApiUrl", "ApiKeyId"),
}


class DeployError(RuntimeError):
    """A step failed; the message says which and what to do."""


# --------------------------------------------------------------------------------------------- the CDK


class StackTool(Protocol):
    """What the deploy needs from the CDK CLI (a fake in the tests)."""

    def bootstrap(self, account: str, region: str) -> None: ...

    def diff(self, stacks: list[str], versions: Mapping[str, str] | None) -> bool: ...

    def deploy(self, stacks: list[str], versions: Mapping[str, str] | None) -> None: ...

    def destroy(self, stacks: list[str]) -> None: ...


@dataclass
class CdkCli:
    """The CDK CLI on the app ``pinterest_infra.app`` (run by the infra venv's Python)."""

    config_path: Path
    cli: Path = CDK_CLI
    python: Path = INFRA_PYTHON
    out: Path = CDK_OUT

    def _run(self, args: list[str], versions: Mapping[str, str] | None, check: bool = True) -> int:
        for tool in (self.cli, self.python):
            if not tool.exists():
                raise DeployError(f"{tool} is missing: run `make setup`")
        env = {
            **os.environ,
            "PINTEREST_AWS_CONFIG": str(self.config_path),
            "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
            "CDK_DISABLE_CLI_TELEMETRY": "true",
        }
        env.pop("PINTEREST_MWAA_VERSIONS", None)
        if versions is not None:
            env["PINTEREST_MWAA_VERSIONS"] = json.dumps(dict(versions), sort_keys=True)
        command = [
            str(self.cli),
            *args,
            "--app",
            f"{self.python} -m pinterest_infra.app",
            "--output",
            str(self.out),
            "--no-notices",
        ]
        code = subprocess.run(command, env=env, cwd=REPO).returncode
        if check and code != 0:
            raise DeployError(f"`cdk {args[0]}` failed (exit {code})")
        return code

    def bootstrap(self, account: str, region: str) -> None:
        """CDK's bootstrap stack (asset bucket and deploy roles); a no-op when it is already current."""
        self._run(["bootstrap", f"aws://{account}/{region}"], None)

    def diff(self, stacks: list[str], versions: Mapping[str, str] | None) -> bool:
        """Print the diff; True when something would change (``--fail`` makes cdk exit 1 on a difference)."""
        return self._run(["diff", "--fail", *stacks], versions, check=False) != 0

    def deploy(self, stacks: list[str], versions: Mapping[str, str] | None) -> None:
        self._run(["deploy", "--require-approval", "never", "--progress", "events", *stacks], versions)

    def destroy(self, stacks: list[str]) -> None:
        self._run(["destroy", "--force", *stacks], None)


# ----------------------------------------------------------------------------------------------- steps

Clients = Callable[[str], Any]


def boto_clients(region: str) -> Clients:
    import boto3

    session = boto3.session.Session(region_name=region)
    return lambda service: session.client(service)


def stack_outputs(cloudformation: Any, stack_name: str) -> dict[str, str]:
    """The outputs of ``stack_name`` (key -> value); a stack that does not exist is an error naming it."""
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        raise DeployError(f"stack {stack_name} not found: {error.response['Error'].get('Message', '')}") from None
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


def deployment_facts(config: DeployConfig, network: Mapping[str, str], data: Mapping[str, str]) -> dict[str, str]:
    """startup.sh's deployment facts (pinterest_infra.bundle.DEPLOYMENT_FACTS) from the stacks' outputs."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": data["BootstrapBrokersIam"],
        "PINTEREST_ACCOUNT_ID": config.account,
        "PINTEREST_MSK_BOOTSTRAP_SERVERS_IAM": data["BootstrapBrokersIam"],
        "PINTEREST_SUBNET_ID_A": network["PrivateSubnetA"],
        "PINTEREST_SUBNET_ID_B": network["PrivateSubnetB"],
        "PINTEREST_SECURITY_GROUP_ID": network["SecurityGroupId"],
        "PINTEREST_S3_SINK_CUSTOM_PLUGIN_ARN": data["S3SinkPluginArn"],
        "PINTEREST_CONNECTOR_ROLE_NAME": data["ConnectorRoleName"],
        "PINTEREST_CONNECTOR_LOG_GROUP": data["ConnectorLogGroup"],
        "PINTEREST_DATABRICKS_INSTANCE_PROFILE_ARN": data["DatabricksInstanceProfileArn"],
        "PINTEREST_GIT_URL": config.databricks.git_url,
        "PINTEREST_GIT_PROVIDER": config.databricks.git_provider,
        "PINTEREST_GIT_BRANCH": config.databricks.git_branch,
    }


@contextlib.contextmanager
def pipeline_names(config: DeployConfig) -> Iterator[None]:
    """The packager reads the pipeline's names from the environment (include.pinterest.settings)."""
    saved = {k: os.environ.get(k) for k in ("PINTEREST_TOPIC_PREFIX", "PINTEREST_BUCKET")}
    os.environ.update(PINTEREST_TOPIC_PREFIX=config.prefix, PINTEREST_BUCKET=config.lake_bucket)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def build_bundle(config: DeployConfig, facts: Mapping[str, str], out: Path = DIST) -> Path:
    with pipeline_names(config):
        return bundle.package(out, deployment=dict(facts))


def current_versions(s3: Any, bucket: str) -> dict[str, str] | None:
    """The object versions of the bundle files now in ``bucket`` (None before the first upload)."""
    from botocore.exceptions import ClientError

    versions = {}
    for key in VERSION_KEYS:
        try:
            versions[key] = s3.head_object(Bucket=bucket, Key=key)["VersionId"]
        except ClientError:
            return None
    return versions


SecretAsker = Callable[[str, str], str]


def ask_secret(variable: str, what: str) -> str:
    """The value of ``variable``, else a hidden prompt on a terminal; never echoed or logged."""
    value = os.environ.get(variable, "")
    if value:
        return value
    if not sys.stdin.isatty():
        raise DeployError(f"{what} is needed once: set {variable} (it is stored only in Secrets Manager)")
    return getpass.getpass(f"{what} ({variable}, stored only in Secrets Manager): ")


def connection_documents(
    config: DeployConfig,
    data: Mapping[str, str],
    ingest: Mapping[str, str],
    api_key: str,
    existing: Mapping[str, dict],
    ask: SecretAsker,
) -> dict[str, dict]:
    """Every connection id the aws profile uses, as the Secrets Manager backend reads them.

    A value only a person has (the Databricks token, the source database URL) is kept from the existing
    secret unless its variable is set, so a second run asks nothing.
    """

    def kept(conn_id: str, variable: str, what: str, read: Callable[[dict], str]) -> str:
        if os.environ.get(variable) or conn_id not in existing:
            return ask(variable, what)
        return read(existing[conn_id])

    token = kept(
        "databricks_default",
        "DATABRICKS_TOKEN",
        "Databricks personal access token or OAuth secret",
        lambda doc: doc["password"],
    )
    source_url = kept(
        "pinterest_source",
        "PINTEREST_SOURCE_URL",
        "source database URL (mysql+pymysql://user:password@host:3306/database)",
        lambda doc: doc["extra"]["url"],
    )
    if not source_url.startswith("mysql+pymysql://"):
        raise DeployError(
            "PINTEREST_SOURCE_URL: must start with mysql+pymysql:// (the RDS MySQL source; the "
            "MWAA image gets PyMySQL from requirements.txt)"
        )
    return {
        "pinterest_kafka": {
            "conn_type": "kafka",
            "extra": {
                "bootstrap.servers": data["BootstrapBrokersIam"],
                "security.protocol": "SASL_SSL",
                "sasl.mechanism": "OAUTHBEARER",
                "group.id": "pinterest-airflow",
                "enable.auto.commit": False,
            },
        },
        "pinterest_aws": {"conn_type": "aws", "extra": {"region_name": config.region}},
        "pinterest_ingest_api": {"conn_type": "http", "host": ingest["ApiUrl"].rstrip("/"), "password": api_key},
        "pinterest_source": {"conn_type": "generic", "extra": {"url": source_url}},
        "databricks_default": {"conn_type": "databricks", "host": config.databricks.host, "password": token},
    }


def existing_connections(secrets: Any, conn_ids: list[str]) -> dict[str, dict]:
    found = {}
    for conn_id in conn_ids:
        try:
            found[conn_id] = json.loads(
                secrets.get_secret_value(SecretId=f"{CONNECTIONS_PREFIX}/{conn_id}")["SecretString"]
            )
        except secrets.exceptions.ResourceNotFoundException:
            continue
    return found


CONNECTION_IDS = ["pinterest_kafka", "pinterest_aws", "pinterest_ingest_api", "pinterest_source", "databricks_default"]


def write_connections(
    secrets: Any, documents: Mapping[str, dict], existing: Mapping[str, dict], prefix: str
) -> dict[str, str]:
    """Create or update each ``airflow/connections/<id>``; returns id -> created|updated|unchanged."""
    outcome = {}
    for conn_id, document in documents.items():
        name = f"{CONNECTIONS_PREFIX}/{conn_id}"
        body = json.dumps(document, sort_keys=True)
        if conn_id not in existing:
            secrets.create_secret(
                Name=name,
                SecretString=body,
                Description=f"Airflow connection {conn_id} of {prefix} (written by make aws-deploy)",
                Tags=[{"Key": "pinterest:deployment", "Value": prefix}],
            )
            outcome[conn_id] = "created"
        elif existing[conn_id] != json.loads(body):
            secrets.put_secret_value(SecretId=name, SecretString=body)
            outcome[conn_id] = "updated"
        else:
            outcome[conn_id] = "unchanged"
    return outcome


# ----------------------------------------------------------------------------------------------- commands


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    changed: bool = False

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line, flush=True)


def deploy(
    config: DeployConfig, tool: StackTool, clients: Clients, ask: SecretAsker = ask_secret, dist: Path = DIST
) -> Report:
    report = Report()
    names = config.stack_names
    core = [names[part] for part in CORE_STACKS]
    say = report.say
    say(f"== 0/6 CDK bootstrap of aws://{config.account}/{config.region} (no-op when current)")
    tool.bootstrap(config.account, config.region)
    say(f"== 1/6 stacks {', '.join(core)}: diff")
    core_changed = tool.diff(core, None)
    if core_changed:
        say("== deploying (CloudFormation events follow)")
        tool.deploy(core, None)
    else:
        say("   no change in the network, data and ingest stacks")
    report.changed |= core_changed

    cloudformation = clients("cloudformation")
    outputs = {part: stack_outputs(cloudformation, names[part]) for part in CORE_STACKS}
    for part, keys in OUTPUTS_READ.items():
        missing = [k for k in keys if k not in outputs[part]]
        if missing:
            raise DeployError(f"stack {names[part]} has no output {', '.join(missing)}: deploy it again")
    say("== 2/6 MWAA bundle")
    dist = build_bundle(config, deployment_facts(config, outputs["network"], outputs["data"]), dist)
    s3 = clients("s3")
    source_bucket = outputs["data"]["SourceBucket"]
    uploaded = bundle.deploy(dist, source_bucket, s3)
    say(
        f"   s3://{source_bucket}/: {len(uploaded.uploaded)} uploaded, {len(uploaded.deleted)} deleted, "
        f"{len(uploaded.unchanged)} unchanged"
    )
    report.changed |= bool(uploaded.uploaded or uploaded.deleted)
    versions = {key: uploaded.versions[key] for key in VERSION_KEYS}
    if not all(versions.values()):
        raise DeployError(f"s3://{source_bucket} returned no object versions: MWAA needs a versioned bucket")

    say("== 3/6 MSK Connect custom plugin")
    plugin = clients("kafkaconnect").describe_custom_plugin(customPluginArn=outputs["data"]["S3SinkPluginArn"])
    say(f"   {plugin['name']}: {plugin['customPluginState']}")
    if plugin["customPluginState"] != "ACTIVE":
        raise DeployError(
            f"custom plugin {plugin['name']} is {plugin['customPluginState']}: "
            f"{plugin.get('stateDescription', {}).get('message', 'see the MSK Connect console')}"
        )

    say("== 4/6 Airflow connections in Secrets Manager")
    secrets = clients("secretsmanager")
    existing = existing_connections(secrets, CONNECTION_IDS)
    api_key = clients("apigateway").get_api_key(apiKey=outputs["ingest"]["ApiKeyId"], includeValue=True)["value"]
    documents = connection_documents(config, outputs["data"], outputs["ingest"], api_key, existing, ask)
    outcome = write_connections(secrets, documents, existing, config.prefix)
    for conn_id, what in outcome.items():
        say(f"   {CONNECTIONS_PREFIX}/{conn_id}: {what}")
    report.changed |= any(what != "unchanged" for what in outcome.values())

    say(f"== 5/6 stack {names['airflow']}: diff (bundle versions {json.dumps(versions, sort_keys=True)})")
    airflow_changed = tool.diff([names["airflow"]], versions)
    if airflow_changed:
        say("== deploying (MWAA takes 20-30 minutes to create, about 10 to update)")
        tool.deploy([names["airflow"]], versions)
    else:
        say("   no change in the airflow stack: MWAA keeps its current versions")
    report.changed |= airflow_changed

    say("== 6/6 what exists")
    environment = clients("mwaa").get_environment(Name=config.environment_name)["Environment"]
    say(f"   MWAA {environment['Name']} ({environment['AirflowVersion']}): {environment['Status']}")
    say(f"   MWAA UI: https://{environment['WebserverUrl']}")
    say(f"   ingest API: {outputs['ingest']['ApiUrl']} (key in {CONNECTIONS_PREFIX}/pinterest_ingest_api)")
    say(
        f"   lake: s3://{outputs['data']['LakeBucket']}  MSK: {outputs['data']['MskClusterName']}  "
        f"streams: streaming-{config.prefix}-{{pin,geo,user}}"
    )
    say(f"   execution role: {outputs['data']['MwaaExecutionRoleArn']}")
    say(
        "result: "
        + ("deployed the changes above" if report.changed else "nothing changed: the deployment was up to date")
    )
    return report


def diff(config: DeployConfig, tool: StackTool, clients: Clients) -> bool:
    """The CDK diff of every stack; the airflow stack against the bundle versions now in the source bucket."""
    names = config.stack_names
    changed = tool.diff([names[part] for part in CORE_STACKS], None)
    versions = current_versions(clients("s3"), config.source_bucket)
    if versions is None:
        print(
            f"{names['airflow']}: not diffed: no bundle in s3://{config.source_bucket} yet (make aws-deploy uploads it)"
        )
        return True
    return tool.diff([names["airflow"]], versions) or changed


def destroy(config: DeployConfig, tool: StackTool, clients: Clients, delete_data: bool) -> None:
    """Remove the stacks (airflow first) and the connection secrets; the buckets only with ``delete_data``."""
    names = config.stack_names
    tool.destroy([names[part] for part in ("airflow", "ingest", "data", "network")])
    secrets = clients("secretsmanager")
    for conn_id in CONNECTION_IDS:
        with contextlib.suppress(secrets.exceptions.ResourceNotFoundException):
            secrets.delete_secret(SecretId=f"{CONNECTIONS_PREFIX}/{conn_id}", ForceDeleteWithoutRecovery=True)
            print(f"deleted {CONNECTIONS_PREFIX}/{conn_id}")
    buckets = (config.lake_bucket, config.source_bucket, config.log_bucket)
    if not delete_data:
        print(f"kept the data buckets {', '.join(buckets)} (retained by the stack): --delete-data removes them")
        return
    s3 = clients("s3")
    for bucket in buckets:
        empty_and_delete_bucket(s3, bucket)


def empty_and_delete_bucket(s3: Any, bucket: str) -> None:
    from botocore.exceptions import ClientError

    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            objects = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if objects:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
        print(f"deleted s3://{bucket}")
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucket":
            raise


def main(argv: list[str] | None = None, tool: StackTool | None = None, clients: Clients | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["deploy", "diff", "destroy", "validate-config"])
    parser.add_argument(
        "--config", type=Path, default=Path(os.environ.get("PINTEREST_AWS_CONFIG", config_module.DEFAULT_CONFIG))
    )
    parser.add_argument("--delete-data", action="store_true", help="destroy: also empty and delete the buckets")
    args = parser.parse_args(argv)
    try:
        config = config_module.load(args.config)
    except config_module.ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if args.command == "validate-config":
        print(f"{args.config}: valid ({', '.join(config.stack_names.values())})")
        return 0
    tool = tool or CdkCli(args.config.resolve())
    clients = clients or boto_clients(config.region)
    try:
        if args.command == "deploy":
            deploy(config, tool, clients)
        elif args.command == "diff":
            diff(config, tool, clients)
        else:
            destroy(config, tool, clients, args.delete_data)
    except DeployError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
