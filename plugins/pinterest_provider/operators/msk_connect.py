"""Create the S3 sink connector on MSK Connect from the definition kept in include/aws/msk-connect/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseOperator

from pinterest_provider.hooks.msk_connect import MskConnectHook


class MskConnectEnsureConnectorOperator(BaseOperator):
    """Create the connector described by ``request`` (a CreateConnector body) unless it exists.

    An existing connector gets the request's capacity (the one setting MSK Connect changes in place); a
    configuration change needs a new connector name, which is a deliberate, reviewed change.
    """

    template_fields: Sequence[str] = ("request",)

    def __init__(self, *, request: dict[str, Any], aws_conn_id: str | None = "aws_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.request = request
        self.aws_conn_id = aws_conn_id

    def execute(self, context) -> str:
        hook = MskConnectHook(aws_conn_id=self.aws_conn_id)
        name = self.request["connectorName"]
        arn = hook.find_connector_arn(name)
        if arn is None:
            arn = hook.create_connector(self.request)
            self.log.info("created connector %s: %s", name, arn)
            return "created"
        current = hook.describe_connector(arn)
        if current.get("capacity") != self.request.get("capacity") and current.get("connectorState") == "RUNNING":
            hook.update_connector(arn, current["currentVersion"], self.request["capacity"])
            self.log.info("updated the capacity of connector %s", name)
            return "updated"
        self.log.info("connector %s exists (%s)", name, current.get("connectorState"))
        return "unchanged"
