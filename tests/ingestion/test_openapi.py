"""The OpenAPI document matches the app route for route, and fuzzing it yields no server error."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import schemathesis
import yaml
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from include.pinterest.ingest import IngestSettings, create_app
from include.pinterest.settings import Settings
from tests.ingestion.conftest import API_KEY
from tests.ingestion.fakes import FakeKinesis, FakeProducer

DOCUMENT = Path(__file__).resolve().parents[2] / "include" / "openapi" / "ingest-api.yaml"
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def _shape(path: str) -> str:
    """``/streams/{stream_name}`` and ``/streams/{stream-name}`` are the same route."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def _document() -> dict:
    return yaml.safe_load(DOCUMENT.read_text())


def test_document_is_valid_openapi() -> None:
    validate(_document())


def test_routes_match_the_document() -> None:
    app = create_app(IngestSettings(api_key=API_KEY), producer=FakeProducer(), kinesis=FakeKinesis())
    served = {(m.lower(), _shape(r.path)) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    documented = {(m, _shape(p)) for p, item in _document()["paths"].items() for m in item if m in HTTP_METHODS}
    assert served == documented


def test_every_operation_has_an_api_gateway_integration() -> None:
    document = _document()
    assert document["x-amazon-apigateway-api-key-source"] == "HEADER"
    assert document["components"]["securitySchemes"]["api_key"] == {"type": "apiKey", "name": "x-api-key",
                                                                     "in": "header"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS:
                continue
            integration = operation["x-amazon-apigateway-integration"]
            if path.startswith("/topics"):
                assert integration["type"] == "http_proxy"
            elif path.startswith("/streams"):
                assert integration["type"] == "aws" and ":kinesis:action/" in integration["uri"]
    put_record = document["paths"]["/streams/{stream-name}/record"]["put"]["x-amazon-apigateway-integration"]
    assert "$util.base64Encode($input.json('$.Data'))" in put_record["requestTemplates"]["application/json"]


schema = schemathesis.openapi.from_path(DOCUMENT)
_TOPIC_OF = {"index": "pin", "first_name": "user", "country": "geo"}


def _table_of(case) -> str:
    """Point the case at the topic or stream its first record fits, so fuzzing reaches validation."""
    body = case.body if isinstance(case.body, dict) else {}
    records = body.get("records") or body.get("Records") or [body]
    first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
    row = first.get("value") or first.get("Data") or {}
    return next((t for field, t in _TOPIC_OF.items() if isinstance(row, dict) and field in row), "geo")


@pytest.fixture(scope="module")
def fuzz_app():
    return create_app(IngestSettings(api_key=API_KEY), producer=FakeProducer(),
                      kinesis=FakeKinesis(Settings().streams))


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzing_finds_no_server_error(case, fuzz_app) -> None:
    pipeline = Settings()
    if "topic" in (case.path_parameters or {}):
        case.path_parameters["topic"] = pipeline.topic(_table_of(case))
    if "stream-name" in (case.path_parameters or {}):
        case.path_parameters["stream-name"] = pipeline.stream(_table_of(case))
    response = case.call(app=fuzz_app, headers={"x-api-key": API_KEY})
    assert response.status_code < 500, (response.status_code, response.text[:500])
    # Responses must match the document; the auth probes are covered by test_api (they need a live server).
    case.validate_response(response, checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                             response_headers_conformance, response_schema_conformance])
