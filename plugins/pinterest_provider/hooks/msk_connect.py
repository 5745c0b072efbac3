"""Amazon MSK Connect (boto3 ``kafkaconnect``): find, describe and create connectors, on AwsBaseHook."""

from __future__ import annotations

from typing import Any

from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook


class MskConnectHook(AwsBaseHook):
    """The connector operations of the AWS profile; returns plain dicts from the MSK Connect API."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["client_type"] = "kafkaconnect"
        super().__init__(*args, **kwargs)

    def find_connector_arn(self, name: str) -> str | None:
        """The ARN of the connector named exactly ``name`` (MSK Connect only filters by prefix)."""
        paginator = self.conn.get_paginator("list_connectors")
        for page in paginator.paginate(connectorNamePrefix=name):
            for connector in page.get("connectors", []):
                if connector["connectorName"] == name:
                    return connector["connectorArn"]
        return None

    def describe_connector(self, arn: str) -> dict[str, Any]:
        return self.conn.describe_connector(connectorArn=arn)

    def create_connector(self, request: dict[str, Any]) -> str:
        return self.conn.create_connector(**request)["connectorArn"]

    def update_connector(self, arn: str, current_version: str, capacity: dict[str, Any]) -> str:
        """MSK Connect updates capacity in place; other changes need a new connector."""
        return self.conn.update_connector(connectorArn=arn, currentVersion=current_version, capacity=capacity)[
            "connectorState"
        ]
