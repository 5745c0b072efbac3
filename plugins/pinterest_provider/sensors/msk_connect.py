"""Sensor: the MSK Connect connector is RUNNING; fails at once when it FAILED."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException

from pinterest_provider.hooks.msk_connect import MskConnectHook


class MskConnectorRunningSensor(BaseSensorOperator):
    """Wait until the connector named ``connector_name`` is RUNNING (CREATING and UPDATING are waited out)."""

    template_fields: Sequence[str] = ("connector_name",)

    def __init__(self, *, connector_name: str, aws_conn_id: str | None = "aws_default", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connector_name = connector_name
        self.aws_conn_id = aws_conn_id

    def poke(self, context) -> bool:
        hook = MskConnectHook(aws_conn_id=self.aws_conn_id)
        arn = hook.find_connector_arn(self.connector_name)
        if arn is None:
            self.log.info("connector %s does not exist yet", self.connector_name)
            return False
        description = hook.describe_connector(arn)
        state = description.get("connectorState")
        if state in {"FAILED", "DELETING"}:
            reason = description.get("stateDescription", {})
            raise AirflowFailException(
                f"MSK Connect connector {self.connector_name} is {state}: "
                f"{reason.get('code', '')} {reason.get('message', '')}".strip()
            )
        self.log.info("connector %s is %s", self.connector_name, state)
        return state == "RUNNING"
