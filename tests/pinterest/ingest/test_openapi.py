"""The OpenAPI document matches the app route for route, and fuzzing it yields no server error."""

from __future__ import annotations

import re
from pathlib import Path

import schemathesis
import yaml
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, settings
from openapi_spec_validator import validate
from schemathesis.checks import CHECKS, load_all_checks, negative_data_rejection, positive_data_acceptance

from include.pinterest.ingest import IngestSettings, create_app
from include.pinterest.settings import Settings
from tests.pinterest.conftest import API_KEY
from tests.pinterest.ingest.fakes import FakeKinesis, FakeProducer

DOCUMENT = Path(__file__).resolve().parents[3] / "include" / "openapi" / "ingest-api.yaml"
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
    assert document["components"]["securitySchemes"]["api_key"] == {
        "type": "apiKey",
        "name": "x-api-key",
        "in": "header",
    }
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


FUZZ_APP = create_app(IngestSettings(api_key=API_KEY), producer=FakeProducer(), kinesis=FakeKinesis(Settings().streams))
schema = schemathesis.openapi.from_path(DOCUMENT)
schema.app = FUZZ_APP  # the checks that send probes of their own send them to the same app
load_all_checks()
ALL_CHECKS = CHECKS.get_all()
# 413 is the document's answer to a body over the limits (more than 500 records, over 1 MiB).
schema.config.checks.negative_data_rejection.expected_statuses = [
    *schema.config.checks.negative_data_rejection.expected_statuses,
    "413",
]
# These answer invalid records one by one inside a 200 (error_code 42201), where negative_data_rejection
# cannot look; the test checks those answers itself.
PER_RECORD_ANSWERS = {"produce": "offsets", "putRecords": "Records"}
_TOPIC_OF = {"index": "pin", "first_name": "user", "country": "geo"}


def _table_of(case) -> str:
    """Point the case at the topic or stream its first record fits, so fuzzing reaches validation."""
    body = case.body if isinstance(case.body, dict) else {}
    records = body.get("records") or body.get("Records") or [body]
    first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
    row = first.get("value") or first.get("Data") or {}
    return next((t for field, t in _TOPIC_OF.items() if isinstance(row, dict) and field in row), "geo")


@schema.parametrize()
@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
def test_fuzzing_finds_no_server_error(case) -> None:
    pipeline = Settings()
    if "topic" in (case.path_parameters or {}):
        case.path_parameters["topic"] = pipeline.topic(_table_of(case))
    if "stream-name" in (case.path_parameters or {}):
        stream = case.path_parameters["stream-name"] = pipeline.stream(_table_of(case))
        if isinstance(case.body, dict) and isinstance(case.body.get("StreamName"), str):
            case.body["StreamName"] = stream  # the document cannot say "the stream of the path"
    headers = {"x-api-key": API_KEY}
    response = case.call(headers=headers)
    assert response.status_code < 500, (response.status_code, response.text[:500])
    excluded = []
    answers_field = PER_RECORD_ANSWERS.get(case.operation.definition.raw.get("operationId"))
    if answers_field and response.status_code == 200:
        if case.meta is not None and case.meta.generation.mode.is_negative:
            answers = response.json()[answers_field]
            assert any(a.get("error_code") == 42201 for a in answers), "a schema-invalid record was accepted"
        excluded.append(negative_data_rejection)
    if response.status_code == 422 and "is not a real date" in response.json()["message"]:
        excluded.append(positive_data_acceptance)  # the document's pattern cannot say "no 30 February"
    case.validate_response(response, checks=ALL_CHECKS, excluded_checks=excluded, headers=headers)
