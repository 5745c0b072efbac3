"""The AWS side as four CDK stacks, in deployment order: network, data, ingest, airflow.

- **network**: a VPC with two private subnets in two zones (MWAA takes exactly two) and NAT egress, flow logs,
  and the one security group every client of the brokers shares (or an existing VPC from the config);
- **data**: the lake, MWAA's versioned source bucket and their access-log bucket; the three Kinesis streams;
  MSK (IAM auth, TLS) and its IAM bootstrap brokers (a custom resource: CloudFormation does not return them);
  the S3 sink's custom plugin, service role and log group; the Databricks instance profile; the MWAA
  execution role (here because its resources hold the cluster's UUID, see ``role_from_policy``);
- **ingest**: API Gateway from include/openapi/ingest-api.yaml with its stage, API key and usage plan, and our
  ingestion API as a Lambda function in the VPC behind ``POST /topics/{topic}``;
- **airflow**: the MWAA environment (Airflow 3.3.1, bundle object versions from the deploy, Secrets Manager
  backend, every log on).

Every role's policy is read from include/aws/iam/ (``policies.policy``); every cdk-nag suppression carries its
reason next to it.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import (
    Acknowledgment,
    CfnOutput,
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kafkaconnect as kafkaconnect
from aws_cdk import aws_kinesis as kinesis
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_msk as msk
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import custom_resources as cr
from constructs import Construct

from include.pinterest.settings import TABLES
from pinterest_infra import policies
from pinterest_infra.config import AIRFLOW_VERSION, CONNECTIONS_PREFIX, VARIABLES_PREFIX, DeployConfig
from pinterest_infra.openapi import api_definition

REPO = Path(__file__).resolve().parents[2]
INGEST_LAYER = REPO / ".cache" / "ingest-lambda" / "layer"
INGEST_CODE = REPO / ".cache" / "ingest-lambda" / "code"
SECRETS_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
LOG_RETENTION = logs.RetentionDays.ONE_MONTH


def suppress(construct: Construct, reasons: Mapping[str, str]) -> None:
    """Acknowledge cdk-nag findings on ``construct`` and below: rule id (``Rule[finding]``) -> why it does not apply."""
    for rule, reason in reasons.items():
        Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))


def role_from_policy(
    scope: Construct, cid: str, config: DeployConfig, policy_file: str, role_name: str, values: Mapping[str, str]
) -> iam.CfnRole:
    """A role whose trust and permissions policies are the files of include/aws/iam/ (the single source).

    cdk-nag reports every ``*`` in a resource (AwsSolutions-IAM5); each one is acknowledged here with the
    statement it belongs to, because the reason for each action is recorded and tested beside the policy
    (include/aws/iam/actions.json, tests/aws/test_iam.py). A role whose resources hold a token (the MSK
    cluster's UUID) must be in the token's stack, so the acknowledged text is the one cdk-nag reads.
    """
    document = policies.policy(policy_file, values)
    role = iam.CfnRole(
        scope,
        cid,
        role_name=role_name,
        assume_role_policy_document=policies.trust_policy(policy_file, values),
        policies=[iam.CfnRole.PolicyProperty(policy_name=policy_file.removesuffix(".json"), policy_document=document)],
        description=f"{config.prefix}: permissions from include/aws/iam/{policy_file}",
    )
    stack = Stack.of(role)
    for statement in document["Statement"]:
        resources = statement.get("Resource", [])
        for resource in resources if isinstance(resources, list) else [resources]:
            if "*" not in resource:
                continue
            why = (
                "these actions have no resource-level permissions (AWS's service authorization reference)"
                if resource == "*"
                else "the wildcard stays inside this deployment's own names"
            )
            rendered = _as_nag_text(stack.resolve(resource))
            suppress(
                role,
                {
                    f"AwsSolutions-IAM5[Resource::{rendered}]": f"include/aws/iam/{policy_file} statement {statement['Sid']}: {why}; each action's "
                    "reason is in include/aws/iam/actions.json"
                },
            )
    return role


def _as_nag_text(resolved) -> str:
    """A resolved resource as cdk-nag prints it: Fn::Join parts concatenated, intrinsics as compact JSON."""
    if isinstance(resolved, str):
        return resolved
    if isinstance(resolved, dict) and set(resolved) == {"Fn::Join"} and resolved["Fn::Join"][0] == "":
        return "".join(_as_nag_text(part) for part in resolved["Fn::Join"][1])
    return json.dumps(resolved, separators=(",", ":"))


# ---------------------------------------------------------------------------------------------- network


class NetworkStack(Stack):
    """Two private subnets in two zones with egress, and the security group of every broker client."""

    def __init__(self, scope: Construct, cid: str, config: DeployConfig, **kwargs) -> None:
        net = config.network
        self._zones = list(net.availability_zones) or [f"{config.region}a", f"{config.region}b"]
        super().__init__(scope, cid, **kwargs)
        zones = self._zones
        if net.existing:
            self.vpc = ec2.Vpc.from_vpc_attributes(
                self,
                "Vpc",
                vpc_id=net.vpc_id,
                availability_zones=zones,
                private_subnet_ids=list(net.private_subnet_ids),
            )
        else:
            flow_logs = logs.LogGroup(self, "FlowLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
            self.vpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=ec2.IpAddresses.cidr(net.cidr),
                availability_zones=zones,
                nat_gateways=net.nat_gateways,
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                    ec2.SubnetConfiguration(
                        name="private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                    ),
                ],
                flow_logs={
                    "all": ec2.FlowLogOptions(destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs))
                },
                restrict_default_security_group=True,
            )
        self.private_subnets = self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnets
        self.security_group = ec2.SecurityGroup(
            self,
            "Platform",
            vpc=self.vpc,
            allow_all_outbound=True,
            description="MSK brokers and their clients (MSK Connect, MWAA, the ingest function); MWAA needs "
            "all traffic between its own members",
        )
        self.security_group.add_ingress_rule(
            self.security_group, ec2.Port.all_traffic(), "members of the platform reach each other (MWAA's rule)"
        )
        if net.source_database_security_group_id:
            # The RDS source's group is the user's: one ingress rule is added (and removed with the stack).
            ec2.CfnSecurityGroupIngress(
                self,
                "SourceDatabaseFromPlatform",
                group_id=net.source_database_security_group_id,
                source_security_group_id=self.security_group.security_group_id,
                ip_protocol="tcp",
                from_port=net.source_database_port,
                to_port=net.source_database_port,
                description="MWAA's posting tasks read the source database",
            )
        CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
        for index, subnet in enumerate(self.private_subnets):
            CfnOutput(self, f"PrivateSubnet{'AB'[index]}", value=subnet.subnet_id)
        CfnOutput(self, "SecurityGroupId", value=self.security_group.security_group_id)

    @property
    def availability_zones(self) -> list[str]:
        """The configured zones: no context lookup (the templates synthesize offline, without an account)."""
        return self._zones


# ------------------------------------------------------------------------------------------------- data


class DataStack(Stack):
    """Buckets, streams, MSK with its bootstrap brokers, the S3 sink's plugin and role, Databricks' role."""

    def __init__(self, scope: Construct, cid: str, config: DeployConfig, network: NetworkStack, **kwargs) -> None:
        super().__init__(scope, cid, **kwargs)
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            bucket_name=config.log_bucket,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[s3.LifecycleRule(expiration=Duration.days(90))],
        )
        suppress(access_logs, {"AwsSolutions-S1": "this is the server access log target of the other buckets"})
        self.lake = s3.Bucket(
            self,
            "Lake",
            bucket_name=config.lake_bucket,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="lake/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.source = s3.Bucket(
            self,
            "MwaaSource",
            bucket_name=config.source_bucket,
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="mwaa-source/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.streams = [
            kinesis.Stream(
                self,
                f"Stream{table.capitalize()}",
                stream_name=f"streaming-{config.prefix}-{table}",
                shard_count=config.kinesis.shard_count,
                encryption=kinesis.StreamEncryption.MANAGED,
                retention_period=Duration.hours(config.kinesis.retention_hours),
                stream_mode=kinesis.StreamMode.PROVISIONED,
            )
            for table in TABLES
        ]

        broker_logs = logs.LogGroup(
            self,
            "BrokerLogs",
            log_group_name=f"/msk/{config.msk_cluster_name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        subnet_ids = [s.subnet_id for s in network.private_subnets]
        self.cluster = msk.CfnCluster(
            self,
            "Msk",
            cluster_name=config.msk_cluster_name,
            kafka_version=config.msk.kafka_version,
            number_of_broker_nodes=config.msk.broker_count,
            broker_node_group_info=msk.CfnCluster.BrokerNodeGroupInfoProperty(
                client_subnets=subnet_ids,
                instance_type=config.msk.instance_type,
                security_groups=[network.security_group.security_group_id],
                storage_info=msk.CfnCluster.StorageInfoProperty(
                    ebs_storage_info=msk.CfnCluster.EBSStorageInfoProperty(volume_size=config.msk.volume_gb)
                ),
            ),
            client_authentication=msk.CfnCluster.ClientAuthenticationProperty(
                sasl=msk.CfnCluster.SaslProperty(iam=msk.CfnCluster.IamProperty(enabled=True)),
                unauthenticated=msk.CfnCluster.UnauthenticatedProperty(enabled=False),
            ),
            encryption_info=msk.CfnCluster.EncryptionInfoProperty(
                encryption_in_transit=msk.CfnCluster.EncryptionInTransitProperty(client_broker="TLS", in_cluster=True),
            ),
            logging_info=msk.CfnCluster.LoggingInfoProperty(
                broker_logs=msk.CfnCluster.BrokerLogsProperty(
                    cloud_watch_logs=msk.CfnCluster.CloudWatchLogsProperty(
                        enabled=True, log_group=broker_logs.log_group_name
                    )
                )
            ),
            enhanced_monitoring="PER_BROKER",
        )
        cluster_arn = self.cluster.attr_arn
        self.cluster_uuid = Fn.select(2, Fn.split("/", cluster_arn))
        brokers = cr.AwsCustomResource(
            self,
            "BootstrapBrokers",
            on_update=cr.AwsSdkCall(  # on_create defaults to on_update: read again whenever the cluster changes
                service="Kafka",
                action="getBootstrapBrokers",
                parameters={"ClusterArn": cluster_arn},
                physical_resource_id=cr.PhysicalResourceId.of(cluster_arn),
                output_paths=["BootstrapBrokerStringSaslIam"],
            ),
            policy=cr.AwsCustomResourcePolicy.from_sdk_calls(resources=[cluster_arn]),
            install_latest_aws_sdk=False,
        )
        self.bootstrap_brokers = brokers.get_response_field("BootstrapBrokerStringSaslIam")

        values = {**policies.deployment_values(config), "msk_cluster_uuid": self.cluster_uuid}
        self.connector_role = role_from_policy(
            self, "ConnectorRole", config, "msk-connect-connector-role.json", config.connector_role_name, values
        )
        self.connector_logs = logs.LogGroup(
            self,
            "ConnectorLogs",
            log_group_name=config.connector_log_group,
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        plugin_zip = s3_assets.Asset(self, "S3SinkZip", path=str(config.connector.plugin_zip))
        self.plugin = kafkaconnect.CfnCustomPlugin(
            self,
            "S3SinkPlugin",
            name=f"{config.prefix}-confluent-s3-sink",
            content_type="ZIP",
            description=f"Confluent S3 sink from {config.connector.plugin_zip.name}",
            location=kafkaconnect.CfnCustomPlugin.CustomPluginLocationProperty(
                s3_location=kafkaconnect.CfnCustomPlugin.S3LocationProperty(
                    bucket_arn=plugin_zip.bucket.bucket_arn, file_key=plugin_zip.s3_object_key
                )
            ),
        )

        databricks_role = role_from_policy(
            self, "DatabricksRole", config, "databricks-instance-profile.json", f"{config.prefix}-databricks", values
        )
        # In this stack because its resources hold the cluster's UUID (see role_from_policy).
        self.mwaa_role = role_from_policy(
            self, "MwaaExecutionRole", config, "mwaa-execution-role.json", f"{config.prefix}-mwaa-execution", values
        )
        self.databricks_profile = iam.CfnInstanceProfile(
            self,
            "DatabricksInstanceProfile",
            instance_profile_name=f"{config.prefix}-databricks",
            roles=[databricks_role.ref],
        )

        for name, value in {
            "LakeBucket": self.lake.bucket_name,
            "SourceBucket": self.source.bucket_name,
            "MskClusterArn": cluster_arn,
            "MskClusterName": config.msk_cluster_name,
            "BootstrapBrokersIam": self.bootstrap_brokers,
            "S3SinkPluginArn": self.plugin.attr_custom_plugin_arn,
            "ConnectorRoleName": config.connector_role_name,
            "ConnectorRoleArn": self.connector_role.attr_arn,
            "ConnectorLogGroup": config.connector_log_group,
            "DatabricksInstanceProfileArn": self.databricks_profile.attr_arn,
            "MwaaExecutionRoleArn": self.mwaa_role.attr_arn,
        }.items():
            CfnOutput(self, name, value=value)

        suppress(
            self,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]": "only CDK's AwsCustomResource provider function (reads the bootstrap brokers) uses it: it writes "
                "that function's own logs and nothing else",
            },
        )


# ----------------------------------------------------------------------------------------------- ingest


def stage_ingest_code() -> Path:
    """The function's code asset: include/ (the domain package, as it is at synth time) plus the handler.

    Rebuilt on every synth from the working tree, so the deployed API is the checked-out one; the contents
    decide the asset hash, so an unchanged tree deploys nothing new.
    """
    if INGEST_CODE.exists():
        shutil.rmtree(INGEST_CODE)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "notebooks", "spark", "aws", "connectors")
    shutil.copytree(REPO / "include", INGEST_CODE / "include", ignore=ignore)
    (INGEST_CODE / "pinterest_infra").mkdir(parents=True)
    (INGEST_CODE / "pinterest_infra" / "__init__.py").write_text("")
    shutil.copyfile(
        Path(__file__).with_name("ingest_handler.py"), INGEST_CODE / "pinterest_infra" / "ingest_handler.py"
    )
    return INGEST_CODE


class IngestStack(Stack):
    """API Gateway from the OpenAPI document; the produce path served by our API on Lambda, in the VPC."""

    def __init__(
        self, scope: Construct, cid: str, config: DeployConfig, network: NetworkStack, data: DataStack, **kwargs
    ) -> None:
        super().__init__(scope, cid, **kwargs)
        if not (INGEST_LAYER / "python").is_dir():
            raise FileNotFoundError(
                f"{INGEST_LAYER}/python is missing: run `make setup` (it builds the ingest "
                "function's dependency layer from infra/lambda-requirements.txt)"
            )
        values = {**policies.deployment_values(config), "msk_cluster_uuid": data.cluster_uuid}
        function_name = values["ingest_function_name"]
        role = role_from_policy(self, "FunctionRole", config, "ingest-api-function.json", function_name, values)
        log_group = logs.LogGroup(
            self,
            "FunctionLogs",
            log_group_name=f"/aws/lambda/{function_name}",
            retention=LOG_RETENTION,
            removal_policy=RemovalPolicy.DESTROY,
        )
        layer = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(INGEST_LAYER)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            description="fastapi, orjson, confluent-kafka, mangum, aws-msk-iam-sasl-signer (infra/lambda-requirements.txt)",
        )
        self.function = lambda_.Function(
            self,
            "IngestApi",
            function_name=function_name,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.X86_64,
            handler="pinterest_infra.ingest_handler.handler",
            code=lambda_.Code.from_asset(str(stage_ingest_code())),
            layers=[layer],
            role=iam.Role.from_role_arn(self, "FunctionRoleRef", role.attr_arn, mutable=False),
            vpc=network.vpc,
            vpc_subnets=ec2.SubnetSelection(subnets=network.private_subnets),
            security_groups=[network.security_group],
            memory_size=1024,
            timeout=Duration.seconds(29),
            log_group=log_group,
            environment={
                "PINTEREST_PROFILE": "aws",
                "PINTEREST_TOPIC_PREFIX": config.prefix,
                "PINTEREST_BUCKET": config.lake_bucket,
                "KAFKA_BOOTSTRAP_SERVERS": data.bootstrap_brokers,
                # API Gateway checks the API key (usage plan) and is the function's only invoker (permission
                # below), so the function does not hold the key.
                "INGEST_API_AUTH": "off",
            },
        )

        kinesis_role = role_from_policy(
            self,
            "KinesisIntegrationRole",
            config,
            "api-gateway-kinesis-role.json",
            f"{config.prefix}-apigateway-kinesis",
            values,
        )
        access_logs = logs.LogGroup(
            self, "ApiAccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY
        )
        self.api = apigateway.SpecRestApi(
            self,
            "Api",
            rest_api_name=f"{config.prefix}-ingest",
            api_definition=apigateway.ApiDefinition.from_inline(
                api_definition(config, self.function.function_arn, kinesis_role.attr_arn)
            ),
            endpoint_types=[apigateway.EndpointType.REGIONAL],
            fail_on_warnings=True,
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigateway.StageOptions(
                stage_name=config.api.stage,
                variables={"kinesis_role_arn": kinesis_role.attr_arn},
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                tracing_enabled=True,
                throttling_rate_limit=config.api.rate_limit,
                throttling_burst_limit=config.api.burst_limit,
            ),
        )
        self.function.add_permission(
            "InvokedByTheApi",
            principal=iam.ServicePrincipal("apigateway.amazonaws.com"),
            source_arn=self.api.arn_for_execute_api("POST", "/topics/*", config.api.stage),
        )
        key = apigateway.ApiKey(
            self,
            "ApiKey",
            api_key_name=f"{config.prefix}-ingest",
            description="the key the pipeline's emulator sends (x-api-key); value read by "
            "make aws-deploy into Secrets Manager, never printed",
        )
        plan = self.api.add_usage_plan(
            "UsagePlan",
            name=f"{config.prefix}-ingest",
            throttle=apigateway.ThrottleSettings(rate_limit=config.api.rate_limit, burst_limit=config.api.burst_limit),
            api_stages=[apigateway.UsagePlanPerApiStage(api=self.api, stage=self.api.deployment_stage)],
        )
        plan.add_api_key(key)

        CfnOutput(self, "ApiUrl", value=self.api.url)
        CfnOutput(self, "ApiKeyId", value=key.key_id)
        CfnOutput(self, "IngestFunctionName", value=self.function.function_name)

        suppress(
            self,
            {
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]": "API Gateway's account-level CloudWatch role: the AWS-managed policy is the documented way to let "
                "API Gateway write stage logs",
                "AwsSolutions-APIG2": "bodies are validated record by record behind the gateway (the ingestion API "
                "answers an invalid record with 42201 and sends it to the dead-letter topic, "
                "spec section 3); API Gateway's validator would reject whole requests instead",
                "AwsSolutions-APIG3": "no WAF web ACL: the API is key-protected and throttled by its usage plan; a WAF "
                "is an organisation-wide choice with its own cost",
            },
        )
        suppress(
            self.function,
            {
                "AwsSolutions-L1": "python3.12 on purpose: the dependency layer is built for cp312 (as MWAA's image) "
                "and the shared code is tested on it; move with infra/lambda-requirements.txt",
            },
        )


# ---------------------------------------------------------------------------------------------- airflow


@dataclass(frozen=True)
class BundleVersions:
    """The S3 object versions of the uploaded bundle files (from ``make aws-deploy``'s upload step)."""

    plugins: str
    requirements: str
    startup: str

    @classmethod
    def from_json(cls, text: str) -> BundleVersions:
        raw = json.loads(text)
        return cls(plugins=raw["plugins.zip"], requirements=raw["requirements.txt"], startup=raw["startup.sh"])


class AirflowStack(Stack):
    """The MWAA environment: Airflow 3.3.1 on the bundle's object versions, Secrets Manager backend, logs on."""

    def __init__(
        self,
        scope: Construct,
        cid: str,
        config: DeployConfig,
        network: NetworkStack,
        data: DataStack,
        versions: BundleVersions,
        **kwargs,
    ) -> None:
        super().__init__(scope, cid, **kwargs)
        role = data.mwaa_role
        module_logs = {"enabled": True, "log_level": "INFO"}
        self.mwaa = mwaa_environment(self, config, role, network, data, versions, module_logs)
        CfnOutput(self, "EnvironmentName", value=config.environment_name)
        CfnOutput(self, "WebserverUrl", value=Fn.join("", ["https://", self.mwaa.attr_webserver_url]))


def mwaa_environment(
    scope: Construct,
    config: DeployConfig,
    role: iam.CfnRole,
    network: NetworkStack,
    data: DataStack,
    versions: BundleVersions,
    module_logs: dict,
):
    from aws_cdk import aws_mwaa as mwaa

    logging = mwaa.CfnEnvironment.LoggingConfigurationProperty(
        **{
            kind: mwaa.CfnEnvironment.ModuleLoggingConfigurationProperty(**module_logs)
            for kind in ("dag_processing_logs", "scheduler_logs", "task_logs", "webserver_logs", "worker_logs")
        }
    )
    return mwaa.CfnEnvironment(
        scope,
        "Environment",
        name=config.environment_name,
        airflow_version=AIRFLOW_VERSION,
        execution_role_arn=role.attr_arn,
        source_bucket_arn=data.source.bucket_arn,
        dag_s3_path="dags",
        plugins_s3_path="plugins.zip",
        plugins_s3_object_version=versions.plugins,
        requirements_s3_path="requirements.txt",
        requirements_s3_object_version=versions.requirements,
        startup_script_s3_path="startup.sh",
        startup_script_s3_object_version=versions.startup,
        environment_class=config.mwaa.environment_class,
        min_workers=config.mwaa.min_workers,
        max_workers=config.mwaa.max_workers,
        webserver_access_mode=config.mwaa.webserver_access,
        network_configuration=mwaa.CfnEnvironment.NetworkConfigurationProperty(
            security_group_ids=[network.security_group.security_group_id],
            subnet_ids=[s.subnet_id for s in network.private_subnets],
        ),
        logging_configuration=logging,
        airflow_configuration_options={
            "secrets.backend": SECRETS_BACKEND,
            "secrets.backend_kwargs": json.dumps(
                {"connections_prefix": CONNECTIONS_PREFIX, "variables_prefix": VARIABLES_PREFIX}, sort_keys=True
            ),
        },
    )
