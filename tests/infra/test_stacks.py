"""What the synthesized templates must say, beyond what the linters check.

Two private subnets in two zones for MWAA, MSK with IAM and TLS (MSK Connect with IAM requires TLS), the
three streams encrypted, every role's policy exactly the file of include/aws/iam/ it comes from, no wildcard
action anywhere, no secret in a template, MWAA on 3.3.1 with the Secrets Manager backend and every log on.
"""

from __future__ import annotations

import json
import re

from pinterest_infra import config as config_module
from pinterest_infra import deploy, policies

from .conftest import EXAMPLE_VERSIONS, STACKS, synthesize, write_config


def resources(template: dict, kind: str) -> dict[str, dict]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def one(template: dict, kind: str) -> dict:
    (found,) = resources(template, kind).values()
    return found["Properties"]


def test_the_four_stacks_are_synthesized(templates):
    assert set(templates) == {"network", "data", "ingest", "airflow"}


def test_the_outputs_make_aws_deploy_reads_are_declared(templates):
    for part, keys in deploy.OUTPUTS_READ.items():
        assert set(keys) <= set(templates[part]["Outputs"]), part


def test_two_private_subnets_in_two_zones(templates):
    subnets = resources(templates["network"], "AWS::EC2::Subnet")
    private = [
        s["Properties"]
        for s in subnets.values()
        if {"Key": "aws-cdk:subnet-type", "Value": "Private"} in s["Properties"].get("Tags", [])
    ]
    assert len(private) == 2
    assert len({s["AvailabilityZone"] for s in private}) == 2
    assert all(s["MapPublicIpOnLaunch"] is False for s in private)
    assert len(resources(templates["network"], "AWS::EC2::NatGateway")) == 1  # egress for MWAA and Lambda
    assert resources(templates["network"], "AWS::EC2::FlowLog")


def test_mwaa_gets_exactly_the_two_private_subnets(templates):
    network = one(templates["airflow"], "AWS::MWAA::Environment")["NetworkConfiguration"]
    imports = [s["Fn::ImportValue"] for s in network["SubnetIds"]]
    assert len(imports) == 2 and len(set(imports)) == 2
    assert all(name.startswith("pinterest-network:") and "privateSubnet" in name for name in imports), imports


def test_an_existing_vpc_is_used_as_given_and_its_source_database_admits_the_platform(tmp_path):
    path = write_config(tmp_path)
    existing = (
        '[network]\nvpc_id = "vpc-0123456789abcdef0"\n'
        'private_subnet_ids = ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]\n'
        'availability_zones = ["us-east-1a", "us-east-1b"]\n'
        'source_database_security_group_id = "sg-0123456789abcdef0"\n'
    )
    path.write_text(path.read_text().replace("[network]\n", existing, 1))
    assembly = synthesize(path, tmp_path / "cdk.out")
    network = json.loads((assembly / f"{STACKS['network']}.template.json").read_text())
    assert not resources(network, "AWS::EC2::VPC") and not resources(network, "AWS::EC2::Subnet")
    (rule,) = [
        r["Properties"]
        for r in resources(network, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == "sg-0123456789abcdef0"
    ]
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 3306, 3306)
    assert rule["SourceSecurityGroupId"]["Fn::GetAtt"][0].startswith("Platform")
    outputs = {k: v["Value"] for k, v in network["Outputs"].items()}
    assert [outputs["PrivateSubnetA"], outputs["PrivateSubnetB"]] == [
        "subnet-0123456789abcdef0",
        "subnet-0fedcba9876543210",
    ]


def test_msk_uses_iam_and_tls_only(templates):
    cluster = one(templates["data"], "AWS::MSK::Cluster")
    assert cluster["ClientAuthentication"] == {
        "Sasl": {"Iam": {"Enabled": True}},
        "Unauthenticated": {"Enabled": False},
    }
    assert cluster["EncryptionInfo"]["EncryptionInTransit"] == {"ClientBroker": "TLS", "InCluster": True}
    assert cluster["NumberOfBrokerNodes"] == 2
    assert len(cluster["BrokerNodeGroupInfo"]["ClientSubnets"]) == 2
    assert cluster["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]["Enabled"] is True


def test_the_connector_request_with_iam_implies_tls():
    connector = json.loads((config_module.REPO / "include/aws/msk-connect/s3-sink-connector.json").read_text())
    if connector["kafkaClusterClientAuthentication"]["authenticationType"] == "IAM":
        assert connector["kafkaClusterEncryptionInTransit"]["encryptionType"] == "TLS"


def test_bootstrap_brokers_come_from_a_custom_resource(templates):
    (custom,) = resources(templates["data"], "Custom::AWS").values()
    create = json.loads(json.dumps(custom["Properties"]["Update"]))
    text = json.dumps(create)
    assert "getBootstrapBrokers" in text and "BootstrapBrokerStringSaslIam" in text
    assert "BootstrapBrokersIam" in templates["data"]["Outputs"]


def test_the_three_streams_are_encrypted(templates):
    streams = [s["Properties"] for s in resources(templates["data"], "AWS::Kinesis::Stream").values()]
    assert sorted(s["Name"] for s in streams) == [f"streaming-pinterest-{t}" for t in ("geo", "pin", "user")]
    assert all(s["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"} for s in streams)


def test_buckets_are_encrypted_private_and_the_source_bucket_versioned(templates):
    buckets = {
        b["Properties"]["BucketName"]: b["Properties"] for b in resources(templates["data"], "AWS::S3::Bucket").values()
    }
    assert set(buckets) == {
        "pinterest-lake-123456789012-us-east-1",
        "airflow-pinterest-123456789012-us-east-1",
        "pinterest-access-logs-123456789012-us-east-1",
    }
    for bucket in buckets.values():
        assert bucket["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert buckets["airflow-pinterest-123456789012-us-east-1"]["VersioningConfiguration"] == {"Status": "Enabled"}
    policies_ = [
        p["Properties"]["PolicyDocument"] for p in resources(templates["data"], "AWS::S3::BucketPolicy").values()
    ]
    assert all(
        any(s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false" for s in p["Statement"])
        for p in policies_
    ), "every bucket denies plain HTTP"


ROLE_FILES = {
    ("data", "pinterest-s3-sink-connector"): "msk-connect-connector-role.json",
    ("data", "pinterest-databricks"): "databricks-instance-profile.json",
    ("ingest", "pinterest-ingest-api"): "ingest-api-function.json",
    ("ingest", "pinterest-apigateway-kinesis"): "api-gateway-kinesis-role.json",
    ("data", "pinterest-mwaa-execution"): "mwaa-execution-role.json",
}


def _strip_tokens(value):
    """A template value with every intrinsic function replaced by ``<token>`` (a Fn::Join of strings and
    intrinsics becomes the joined text), to compare with the file's placeholders filled the same way."""
    if isinstance(value, dict) and set(value) == {"Fn::Join"} and value["Fn::Join"][0] == "":
        return "".join(p if isinstance(p, str) else "<token>" for p in value["Fn::Join"][1])
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref")):
        return "<token>"
    if isinstance(value, dict):
        return {k: _strip_tokens(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_tokens(v) for v in value]
    return value


def test_every_role_is_its_file_in_include_aws_iam(templates):
    found = {}
    for part, template in templates.items():
        for role in resources(template, "AWS::IAM::Role").values():
            name = role["Properties"].get("RoleName")
            if name:
                found[(part, name)] = role["Properties"]
    assert set(ROLE_FILES) <= set(found)
    for key, file in ROLE_FILES.items():
        role = found[key]
        (inline,) = role["Policies"]
        values = {n: "<token>" if n == "msk_cluster_uuid" else v for n, v in _values().items()}
        expected = policies.policy(file, values)
        actual = _strip_tokens(inline["PolicyDocument"])
        assert _flatten(actual) == _flatten(expected), file
        assert role["AssumeRolePolicyDocument"] == policies.trust_policy(file, _values())


def _values() -> dict[str, str]:
    return {
        "region": "us-east-1",
        "account_id": "123456789012",
        "topic_prefix": "pinterest",
        "lake_bucket": "pinterest-lake-123456789012-us-east-1",
        "mwaa_bucket": "airflow-pinterest-123456789012-us-east-1",
        "mwaa_env": "pinterest",
        "msk_cluster_name": "pinterest-msk",
        "connector_role_name": "pinterest-s3-sink-connector",
        "ingest_function_name": "pinterest-ingest-api",
        "msk_cluster_uuid": "<token>",
    }


def _flatten(policy: dict) -> list:
    """Statements with every ARN containing a token reduced to its token-free text, comparable across forms."""
    text = json.dumps(policy, sort_keys=True)
    return json.loads(re.sub(r"<token>", "TOKEN", text))["Statement"]


def _all_policy_documents(templates):
    for part, template in templates.items():
        for rid, resource in template["Resources"].items():
            props = resource.get("Properties", {})
            for inline in props.get("Policies", []):
                yield f"{part}/{rid}", inline["PolicyDocument"]
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                yield f"{part}/{rid}", props["PolicyDocument"]


def test_no_wildcard_action_in_any_policy_of_any_stack(templates):
    offenders = []
    for where, document in _all_policy_documents(templates):
        for statement in document["Statement"]:
            actions = statement.get("Action", [])
            for action in actions if isinstance(actions, list) else [actions]:
                if "*" in action:
                    offenders.append((where, action))
    assert offenders == []


def test_resource_star_only_where_an_action_has_no_resource_level_permissions(templates):
    offenders = []
    for where, document in _all_policy_documents(templates):
        for statement in document["Statement"]:
            resource = statement.get("Resource")
            if resource == "*" and not statement.get("Sid", "").endswith("NoResourceLevelPermissions"):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                # CDK's VPC construct restricts the default security group with a custom resource whose
                # provider needs ec2:AuthorizeSecurityGroup*/Revoke* on the default group: scoped by ARN in CDK.
                offenders.append((where, actions))
    assert offenders == []


def test_mwaa_environment(templates):
    env = one(templates["airflow"], "AWS::MWAA::Environment")
    assert env["AirflowVersion"] == "3.3.1"
    assert env["DagS3Path"] == "dags" and env["PluginsS3Path"] == "plugins.zip"
    assert env["RequirementsS3Path"] == "requirements.txt" and env["StartupScriptS3Path"] == "startup.sh"
    assert env["PluginsS3ObjectVersion"] == EXAMPLE_VERSIONS["plugins.zip"]
    assert env["RequirementsS3ObjectVersion"] == EXAMPLE_VERSIONS["requirements.txt"]
    assert env["StartupScriptS3ObjectVersion"] == EXAMPLE_VERSIONS["startup.sh"]
    options = env["AirflowConfigurationOptions"]
    assert options["secrets.backend"] == "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    assert json.loads(options["secrets.backend_kwargs"]) == {
        "connections_prefix": "airflow/connections",
        "variables_prefix": "airflow/variables",
    }
    logging = env["LoggingConfiguration"]
    assert set(logging) == {"DagProcessingLogs", "SchedulerLogs", "TaskLogs", "WebserverLogs", "WorkerLogs"}
    assert all(module["Enabled"] is True for module in logging.values())


def test_the_produce_path_is_served_by_the_ingest_function(templates):
    api = one(templates["ingest"], "AWS::ApiGateway::RestApi")
    body = api["Body"]
    integration = body["paths"]["/topics/{topic}"]["post"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    assert "IngestApi" in json.dumps(integration["uri"])
    assert "${AWS::Region}" not in json.dumps(body) and "stageVariables.kinesis_role_arn" not in json.dumps(body)
    assert api["FailOnWarnings"] is True
    function = one(templates["ingest"], "AWS::Lambda::Function")
    assert function["Runtime"] == "python3.12" and function["VpcConfig"]["SubnetIds"]
    assert function["Handler"] == "pinterest_infra.ingest_handler.handler"
    permission = one(templates["ingest"], "AWS::Lambda::Permission")
    assert permission["Principal"] == "apigateway.amazonaws.com" and "/topics/*" in json.dumps(permission["SourceArn"])


SECRETISH = re.compile(
    r"(dapi[0-9a-f]{32}|AKIA[0-9A-Z]{16}|aws_secret_access_key|\"Password\"|BEGIN [A-Z ]*PRIVATE KEY)"
)


def test_no_secret_in_a_template_or_an_output(templates):
    for part, template in templates.items():
        text = json.dumps(template)
        assert not SECRETISH.search(text), part
        for key in template.get("Outputs", {}):
            assert not re.search(r"(?i)token|password|secret|apikeyvalue", key), (part, key)
    assert "ApiKeyId" in templates["ingest"]["Outputs"]
    api_key = one(templates["ingest"], "AWS::ApiGateway::ApiKey")
    assert "Value" not in api_key  # API Gateway generates it; make aws-deploy copies it to Secrets Manager
