"""The IAM policies of include/aws/iam/, filled with one deployment's names: their single source.

The stacks read the JSON files through :func:`policy` and :func:`trust_policy`; nothing else holds a copy.
``${name}`` placeholders are replaced by plain string substitution, which also works for CDK tokens (a token is
a string that CDK resolves inside any string it is embedded in), so the MSK cluster's UUID, only known after
CloudFormation created the cluster, is filled the same way as the account id. An unknown or unfilled
placeholder is an error, never a literal ``${...}`` in a deployed policy.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pinterest_infra.config import DeployConfig

IAM = Path(__file__).resolve().parents[2] / "include" / "aws" / "iam"
PLACEHOLDER = re.compile(r"\$\{([a-z0-9_]+)\}")
ROLE_POLICIES = (
    "mwaa-execution-role.json",
    "msk-connect-connector-role.json",
    "databricks-instance-profile.json",
    "ingest-api-function.json",
    "api-gateway-kinesis-role.json",
)


def placeholders(value: Any) -> set[str]:
    """Every ``${name}`` used anywhere in ``value``."""
    if isinstance(value, str):
        return set(PLACEHOLDER.findall(value))
    if isinstance(value, dict):
        return set().union(*(placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders(v) for v in value)) if value else set()
    return set()


def fill(value: Any, values: Mapping[str, str], where: str = "policy") -> Any:
    """``value`` with every ``${name}`` replaced from ``values``; a name without a value raises KeyError."""
    missing = placeholders(value) - set(values)
    if missing:
        raise KeyError(f"{where}: no value for {', '.join(f'${{{m}}}' for m in sorted(missing))}")
    if isinstance(value, str):
        return PLACEHOLDER.sub(lambda m: values[m.group(1)], value)
    if isinstance(value, dict):
        return {k: fill(v, values, where) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, list):
        return [fill(v, values, where) for v in value]
    return value


def policy(name: str, values: Mapping[str, str]) -> dict:
    """The permissions policy ``include/aws/iam/<name>`` filled from ``values``."""
    return fill(json.loads((IAM / name).read_text()), values, name)


def trust_policy(name: str, values: Mapping[str, str]) -> dict:
    """The trust policy of the role whose permissions are ``<name>`` (include/aws/iam/trust-policies.json)."""
    trusts = json.loads((IAM / "trust-policies.json").read_text())
    if name not in trusts:
        raise KeyError(f"trust-policies.json has no trust policy for {name}")
    return fill(trusts[name], values, f"trust-policies.json:{name}")


def deployment_values(config: DeployConfig) -> dict[str, str]:
    """Every placeholder value of the policies except ``msk_cluster_uuid`` (known only once MSK exists)."""
    return {
        "region": config.region,
        "account_id": config.account,
        "topic_prefix": config.prefix,
        "lake_bucket": config.lake_bucket,
        "mwaa_bucket": config.source_bucket,
        "mwaa_env": config.environment_name,
        "msk_cluster_name": config.msk_cluster_name,
        "connector_role_name": config.connector_role_name,
        "ingest_function_name": f"{config.prefix}-ingest-api",
    }
