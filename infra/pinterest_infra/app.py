"""The CDK app: ``python -m pinterest_infra.app`` (what ``cdk --app`` runs; also synthesizes on its own).

Inputs come from the environment so the same app serves ``make aws-validate``, ``aws-diff`` and ``aws-deploy``:
``PINTEREST_AWS_CONFIG`` (the config file, default infra/aws.toml) and ``PINTEREST_MWAA_VERSIONS`` (JSON of the
uploaded bundle's object versions; the deploy sets it after its upload; without it the airflow stack is left
out). cdk-nag's AWS Solutions pack checks
every stack during synthesis as a policy validation plugin: an unacknowledged finding fails the synthesis and
is written to the assembly's policy-validation-report.json; acknowledged ones, with their reasons, are written
into the templates' metadata.
"""

from __future__ import annotations

import os
import sys

from aws_cdk import App, Environment, Validations
from cdk_nag import AwsSolutionsChecks

from pinterest_infra import config as config_module
from pinterest_infra.stacks import AirflowStack, BundleVersions, DataStack, IngestStack, NetworkStack

VERSIONS_ENV = "PINTEREST_MWAA_VERSIONS"
CONFIG_ENV = "PINTEREST_AWS_CONFIG"


def build(app: App, config: config_module.DeployConfig, versions: BundleVersions | None) -> dict:
    """The stacks; without ``versions`` (before the bundle's first upload) the airflow stack is left out.

    Each stack's construct id is its CloudFormation name, the name the CDK CLI selects stacks by."""
    env = Environment(account=config.account, region=config.region)
    names = config.stack_names
    network = NetworkStack(app, names["network"], config, env=env)
    data = DataStack(app, names["data"], config, network, env=env)
    ingest = IngestStack(app, names["ingest"], config, network, data, env=env)
    stacks = {"network": network, "data": data, "ingest": ingest}
    if versions is not None:
        stacks["airflow"] = AirflowStack(app, names["airflow"], config, network, data, versions, env=env)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app, write_suppressions_to_cloud_formation=True))
    return stacks


def main() -> int:
    try:
        config = config_module.load(os.environ.get(CONFIG_ENV, config_module.DEFAULT_CONFIG))
    except config_module.ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    raw = os.environ.get(VERSIONS_ENV)
    if not raw:
        print(
            f"{VERSIONS_ENV} is not set: the airflow stack is left out (it needs the uploaded bundle's object "
            "versions; make aws-deploy sets them after its upload)",
            file=sys.stderr,
        )
    # Access-log delivery by bucket policy instead of the legacy log-delivery ACL (CDK's recommended flag).
    app = App(
        context={
            "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
            # Exports keep a stack from being deleted while another still imports from it (deploy order).
            "@aws-cdk/core:defaultCrossStackReferences": "strong",
        }
    )
    build(app, config, BundleVersions.from_json(raw) if raw else None)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
