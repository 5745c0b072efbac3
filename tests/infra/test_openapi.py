"""The ingest API's OpenAPI document as the ingest stack hands it to API Gateway, imported into moto's API
Gateway with failOnWarnings: every path of the document arrives, and the produce path is the Lambda proxy."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from pinterest_infra import config as config_module
from pinterest_infra.openapi import PRODUCE_PATH, api_definition, load_document

from .conftest import write_config

FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:pinterest-ingest-api"
ROLE_ARN = "arn:aws:iam::123456789012:role/pinterest-apigateway-kinesis"


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        yield boto3.client("apigateway", region_name="us-east-1")


def for_moto(document: dict) -> dict:
    """Two limits of moto's importer (5.x), worked around without changing the API's meaning: it requires
    ``uri`` and ``httpMethod`` on every integration (API Gateway does not on ``mock`` ones, the /health path),
    and it reads every key of a path item as a method, so path-level ``parameters`` move into the operations
    (equivalent in OpenAPI 3)."""
    for operations in document["paths"].values():
        shared = operations.pop("parameters", [])
        for operation in operations.values():
            operation["parameters"] = shared + operation.get("parameters", [])
            integration = operation.get("x-amazon-apigateway-integration", {}) if isinstance(operation, dict) else {}
            if integration.get("type") == "mock":
                integration.setdefault("uri", "")
                integration.setdefault("httpMethod", "GET")
    return document


def test_the_deployment_document_imports_with_fail_on_warnings(aws, tmp_path):
    config = config_module.load(write_config(tmp_path))
    document = for_moto(api_definition(config, FUNCTION_ARN, ROLE_ARN))
    api = aws.import_rest_api(failOnWarnings=True, body=json.dumps(document).encode())
    paths = {r["path"] for r in aws.get_resources(restApiId=api["id"], limit=500)["items"]}
    assert set(load_document()["paths"]) <= paths
    (produce,) = [r for r in aws.get_resources(restApiId=api["id"], limit=500)["items"] if r["path"] == PRODUCE_PATH]
    integration = aws.get_integration(restApiId=api["id"], resourceId=produce["id"], httpMethod="POST")
    assert integration["type"].upper() == "AWS_PROXY"
    assert FUNCTION_ARN in integration["uri"]


def test_kinesis_integrations_get_the_region_and_the_role(tmp_path):
    config = config_module.load(write_config(tmp_path))
    text = json.dumps(api_definition(config, FUNCTION_ARN, ROLE_ARN))
    assert "${AWS::Region}" not in text and "${stageVariables.kinesis_role_arn}" not in text
    assert "arn:aws:apigateway:us-east-1:kinesis:action/PutRecords" in text
    assert text.count(ROLE_ARN) == sum(
        1
        for p in load_document()["paths"].values()
        for op in p.values()
        if isinstance(op, dict) and op.get("x-amazon-apigateway-integration", {}).get("type") == "aws"
    )


def test_a_broken_document_fails_the_import(aws):
    with pytest.raises(aws.exceptions.BadRequestException):
        aws.import_rest_api(failOnWarnings=True, body=b'{"openapi": "3.0.3", "paths": "not a map"}')
