"""include/openapi/ingest-api.yaml as API Gateway imports it for one deployment (no second copy of it)."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from pinterest_infra.config import DeployConfig

OPENAPI = Path(__file__).resolve().parents[2] / "include" / "openapi" / "ingest-api.yaml"
PRODUCE_PATH, PRODUCE_METHOD = "/topics/{topic}", "post"


def load_document() -> dict:
    return yaml.safe_load(OPENAPI.read_text())


def api_definition(config: DeployConfig, function_arn: str, kinesis_role_arn: str) -> dict:
    """include/openapi/ingest-api.yaml as API Gateway imports it for this deployment.

    The document is the single source of paths, schemas and the Kinesis integrations. Two things are filled
    in here: ``${AWS::Region}`` (API Gateway imports the document as is, so CloudFormation pseudo parameters
    are not substituted) and the credentials of the Kinesis integrations; and the produce operation's
    integration, which the document gives as an HTTP proxy to a REST proxy host, becomes the Lambda proxy
    integration of our ingestion API.
    """
    document = load_document()

    def substitute(value):
        if isinstance(value, str):
            return value.replace("${AWS::Region}", config.region).replace(
                "${stageVariables.kinesis_role_arn}", kinesis_role_arn
            )
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value

    document = substitute(copy.deepcopy(document))
    operation = document["paths"][PRODUCE_PATH][PRODUCE_METHOD]
    operation["x-amazon-apigateway-integration"] = {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": f"arn:aws:apigateway:{config.region}:lambda:path/2015-03-31/functions/{function_arn}/invocations",
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": 29000,
    }
    document.pop("servers", None)  # API Gateway derives its own URL; the local server entry would be a warning
    return document
