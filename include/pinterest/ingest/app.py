"""The ingestion API: local stand-in for API Gateway + the Kafka REST Proxy (spec §3).

``POST /topics/{topic}`` speaks the produce subset of Confluent REST Proxy v2; ``/streams/...`` are the
Kinesis resources API Gateway exposes. Every record is validated against its table's schema
(``include.pinterest.records``): valid ones are produced, invalid ones are answered per record with
error 42201 and written with their reason to the dead-letter topic ``<prefix>.dlq``. Errors use the
Confluent shape ``{"error_code": ..., "message": ...}``. Bodies are parsed by hand with orjson (no
request models) because this is the hot path of the whole pipeline.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from include.pinterest.ingest.config import IngestSettings
from include.pinterest.ingest.kinesis import BotoKinesis, KinesisBackend, KinesisFailure
from include.pinterest.ingest.producer import (
    BrokerUnavailable,
    Delivery,
    KafkaRecordProducer,
    OutgoingMessage,
    RecordProducer,
)
from include.pinterest.records import validation_problems
from include.pinterest.settings import TABLES

log = logging.getLogger("pinterest.ingest")
access_log = logging.getLogger("pinterest.ingest.access")

PRODUCE_CONTENT_TYPES = {"application/vnd.kafka.json.v2+json", "application/json"}
STREAM_CONTENT_TYPES = {"application/json"}
PRODUCE_RESPONSE_TYPE = "application/vnd.kafka.v2+json"
INVALID_RECORD = 42201
MAX_PARTITION_KEY = 256


class ApiError(Exception):
    """An answer other than success, rendered as ``{"error_code": ..., "message": ...}``."""

    def __init__(self, status: int, error_code: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.retry_after = retry_after


@dataclass
class _Backends:
    producer: RecordProducer | None
    kinesis: KinesisBackend | None


def create_app(
    settings: IngestSettings,
    *,
    producer: RecordProducer | None = None,
    kinesis: KinesisBackend | None = None,
) -> FastAPI:
    """Build the API; without ``producer``/``kinesis`` it connects to the configured Kafka and Kinesis."""
    backends = _Backends(producer, kinesis)
    pipeline = settings.pipeline
    topic_tables = {pipeline.topic(t): t for t in TABLES}
    stream_tables = {pipeline.stream(t): t for t in TABLES}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        owned: KafkaRecordProducer | None = None
        if backends.producer is None:
            owned = KafkaRecordProducer(pipeline.kafka_bootstrap, settings.delivery_timeout_ms)
            backends.producer = owned
        if backends.kinesis is None:
            backends.kinesis = BotoKinesis(pipeline.aws_region, pipeline.kinesis_endpoint_url)
        try:
            yield
        finally:
            if owned is not None:
                owned.close()

    app = FastAPI(
        title="Pinterest ingestion API",
        openapi_url=None,  # the contract is include/openapi/ingest-api.yaml, written by hand
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_middleware(AccessLog)

    def authorize(request: Request) -> None:
        if not settings.auth_enabled:
            return
        given = request.headers.get("x-api-key")
        if not given:
            raise ApiError(401, 40101, "missing API key: send it in the x-api-key header")
        if not hmac.compare_digest(given.encode(), (settings.api_key or "").encode()):
            raise ApiError(403, 40301, "the API key in x-api-key is not valid")

    def producer_of() -> RecordProducer:
        assert backends.producer is not None, "lifespan sets the producer"
        return backends.producer

    def kinesis_of() -> KinesisBackend:
        assert backends.kinesis is not None, "lifespan sets the Kinesis backend"
        return backends.kinesis

    async def deliver(messages: Sequence[OutgoingMessage]) -> list[Delivery]:
        """Produce, turning every transient broker fault into 503 + Retry-After."""
        if not messages:
            return []
        producer_ = producer_of()
        try:
            await producer_.ensure_reachable()
            deliveries = await producer_.produce(messages)
        except BrokerUnavailable as exc:
            raise ApiError(503, 50301, f"Kafka is unavailable: {exc}", settings.retry_after_s) from None
        transient = next((d for d in deliveries if d.transient), None)
        if transient is not None:
            raise ApiError(503, 50301, f"Kafka did not acknowledge: {transient.error}", settings.retry_after_s)
        for message, delivery in zip(messages, deliveries, strict=True):
            if delivery.error and message.topic == settings.dead_letter_topic:
                log.error("dead-letter write failed: %s", delivery.error)
        return deliveries

    def dead_letter(source: str, reason: str, original: Any) -> OutgoingMessage:
        payload = {
            "source": source,
            "reason": reason,
            "payload": original,
            "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }
        return OutgoingMessage(settings.dead_letter_topic, None, orjson.dumps(payload))

    @app.get("/health")
    async def health() -> Response:
        """Reachability of Kafka and Kinesis; no auth, so orchestrators can probe it."""
        kafka = await producer_of().health()
        kinesis_state = await kinesis_of().health()
        ok = kafka["reachable"] and kinesis_state["reachable"]
        body = {"status": "ok" if ok else "degraded", "kafka": kafka, "kinesis": kinesis_state}
        return _json(body, 200 if ok else 503)

    @app.post("/topics/{topic}")
    async def produce(topic: str, request: Request) -> Response:
        """Confluent REST Proxy v2 produce: per-record offsets or errors, in request order."""
        authorize(request)
        table = topic_tables.get(topic)
        if table is None:
            raise ApiError(404, 40401, f"topic {topic!r} not found: use one of {sorted(topic_tables)}")
        _check_content_type(request, PRODUCE_CONTENT_TYPES)
        body = await _read_json(request, settings.max_body_bytes)
        records = _list_field(body, "records", {"records"}, settings.max_records)
        request.state.records = len(records)

        answers: list[dict[str, Any] | None] = [None] * len(records)
        outgoing: list[OutgoingMessage] = []
        positions: list[int] = []
        problems = _record_problems(table, records, _produce_record_shape, "value")
        for position, (record, problem) in enumerate(zip(records, problems, strict=True)):
            if problem is None:
                key = record.get("key")
                outgoing.append(OutgoingMessage(
                    topic, None if key is None else orjson.dumps(key), orjson.dumps(record["value"])
                ))
                positions.append(position)
            else:
                answers[position] = _offset(error_code=INVALID_RECORD, error=problem)
                outgoing.append(dead_letter(topic, problem, record))
                positions.append(-1)
        deliveries = await deliver(outgoing)
        for position, delivery in zip(positions, deliveries, strict=True):
            if position < 0:
                continue
            if delivery.error is None:
                answers[position] = _offset(partition=delivery.partition, offset=delivery.offset)
            else:
                code = 40401 if delivery.unknown_topic else 50002
                answers[position] = _offset(error_code=code, error=delivery.error)
        body_out = {"offsets": answers, "key_schema_id": None, "value_schema_id": None}
        return Response(orjson.dumps(body_out), 200, media_type=PRODUCE_RESPONSE_TYPE)

    def stream_table(request: Request, stream_name: str) -> str:
        authorize(request)
        table = stream_tables.get(stream_name)
        if table is None:
            raise ApiError(404, 40402, f"stream {stream_name!r} not found: use one of {sorted(stream_tables)}")
        return table

    @app.get("/streams")
    async def list_streams(request: Request) -> Response:
        """ListStreams."""
        authorize(request)
        return _json(await _kinesis_call(kinesis_of().list_streams(), settings))

    @app.get("/streams/{stream_name}")
    async def describe_stream(stream_name: str, request: Request) -> Response:
        """DescribeStream."""
        stream_table(request, stream_name)
        return _json(await _kinesis_call(kinesis_of().describe_stream(stream_name), settings))

    @app.post("/streams/{stream_name}")
    async def create_stream(stream_name: str, request: Request) -> Response:
        """CreateStream; the body ``{"ShardCount": n}`` is optional (one shard by default)."""
        stream_table(request, stream_name)
        shard_count = 1
        if _has_body(request):
            _check_content_type(request, STREAM_CONTENT_TYPES)
            body = await _read_json(request, settings.max_body_bytes)
            _check_object(body, {"ShardCount", "StreamName"}, "body")
            _check_stream_name(body, stream_name)
            shard_count = body.get("ShardCount", 1)
            if type(shard_count) is not int or not 1 <= shard_count <= 100:
                raise ApiError(422, 42202, "field 'ShardCount': must be an integer from 1 to 100")
        return _json(await _kinesis_call(kinesis_of().create_stream(stream_name, shard_count), settings))

    @app.delete("/streams/{stream_name}")
    async def delete_stream(stream_name: str, request: Request) -> Response:
        """DeleteStream."""
        stream_table(request, stream_name)
        return _json(await _kinesis_call(kinesis_of().delete_stream(stream_name), settings))

    @app.put("/streams/{stream_name}/record")
    async def put_record(stream_name: str, request: Request) -> Response:
        """PutRecord: ``Data`` is one source row; Kinesis stores its JSON (API Gateway base64-encodes it)."""
        table = stream_table(request, stream_name)
        _check_content_type(request, STREAM_CONTENT_TYPES)
        body = await _read_json(request, settings.max_body_bytes)
        _check_object(body, {"StreamName", "Data", "PartitionKey"}, "body")
        _check_stream_name(body, stream_name)
        request.state.records = 1
        problem = _record_problems(table, [body], _stream_record_shape, "Data")[0]
        if problem is not None:
            await deliver([dead_letter(stream_name, problem, body)])
            raise ApiError(422, INVALID_RECORD, problem)
        data = orjson.dumps(body["Data"])
        return _json(await _kinesis_call(kinesis_of().put_record(stream_name, data, body["PartitionKey"]), settings))

    @app.put("/streams/{stream_name}/records")
    async def put_records(stream_name: str, request: Request) -> Response:
        """PutRecords: per-record results in request order; invalid records fail with their reason."""
        table = stream_table(request, stream_name)
        _check_content_type(request, STREAM_CONTENT_TYPES)
        body = await _read_json(request, settings.max_body_bytes)
        records = _list_field(body, "Records", {"StreamName", "Records"}, settings.max_records)
        _check_stream_name(body, stream_name)
        request.state.records = len(records)

        answers: list[dict[str, Any] | None] = [None] * len(records)
        valid: list[tuple[bytes, str]] = []
        positions: list[int] = []
        rejects: list[OutgoingMessage] = []
        problems = _record_problems(table, records, _stream_record_shape, "Data")
        for position, (record, problem) in enumerate(zip(records, problems, strict=True)):
            if problem is None:
                valid.append((orjson.dumps(record["Data"]), record["PartitionKey"]))
                positions.append(position)
            else:
                answers[position] = {"ErrorCode": "InvalidRecord", "ErrorMessage": problem,
                                     "error_code": INVALID_RECORD}
                rejects.append(dead_letter(stream_name, problem, record))
        await deliver(rejects)
        failed = len(rejects)
        if valid:
            result = await _kinesis_call(kinesis_of().put_records(stream_name, valid), settings)
            failed += result.get("FailedRecordCount", 0)
            for position, entry in zip(positions, result["Records"], strict=True):
                answers[position] = entry
        return _json({"FailedRecordCount": failed, "Records": answers})

    @app.exception_handler(ApiError)
    async def on_api_error(_request: Request, exc: ApiError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return _json({"error_code": exc.error_code, "message": exc.message}, exc.status, headers)

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(_request: Request, exc: StarletteHTTPException) -> Response:
        return _json({"error_code": exc.status_code * 100, "message": str(exc.detail)}, exc.status_code,
                     dict(exc.headers) if exc.headers else None)

    @app.exception_handler(Exception)
    async def on_unexpected(_request: Request, exc: Exception) -> Response:
        log.exception("unhandled error", exc_info=exc)
        return _json({"error_code": 50001, "message": "internal error"}, 500)

    return app


async def _kinesis_call(call: Any, settings: IngestSettings) -> dict[str, Any]:
    try:
        return await call
    except KinesisFailure as exc:
        code = {404: 40402, 409: 40901, 503: 50302}.get(exc.status, 50201)
        raise ApiError(exc.status, code, exc.message, settings.retry_after_s if exc.status == 503 else None) from None


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


def _offset(partition: int | None = None, offset: int | None = None,
            error_code: int | None = None, error: str | None = None) -> dict[str, Any]:
    return {"partition": partition, "offset": offset, "error_code": error_code, "error": error}


def _check_content_type(request: Request, allowed: set[str]) -> None:
    given = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if given not in allowed:
        raise ApiError(415, 41501, f"Content-Type must be one of {sorted(allowed)}, got {given or 'none'!r}")


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "chunked" in request.headers.get("transfer-encoding", "")


async def _read_json(request: Request, limit: int) -> Any:
    """The parsed body; 413 past ``limit`` bytes (checked while reading), 400 if it is not JSON."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise ApiError(413, 41301, f"request body is {length} bytes, the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, 41301, f"request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, 40001, f"malformed JSON: {exc}") from None


def _check_object(body: Any, allowed: set[str], what: str) -> None:
    if not isinstance(body, dict):
        raise ApiError(422, 42202, f"{what} must be a JSON object, got {type(body).__name__}")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(422, 42202, f"field '{unknown[0]}': is not allowed in the {what} (allowed: {sorted(allowed)})")


def _list_field(body: Any, name: str, allowed: set[str], max_items: int) -> list[Any]:
    _check_object(body, allowed, "body")
    items = body.get(name)
    if not isinstance(items, list) or not items:
        raise ApiError(422, 42202, f"field '{name}': must be a non-empty array of records")
    if len(items) > max_items:
        raise ApiError(413, 41302, f"field '{name}': {len(items)} records, the limit is {max_items} per request")
    return items


def _check_stream_name(body: dict[str, Any], stream_name: str) -> None:
    given = body.get("StreamName", stream_name)
    if given != stream_name:
        raise ApiError(422, 42202, f"field 'StreamName': must match the stream in the path ({stream_name!r})")


def _record_problems(table: str, records: list[Any], shape: Callable[[Any], str | None],
                     row_field: str) -> list[str | None]:
    """Why each record is invalid (None where valid): envelope first, then the rows in one batch."""
    problems = [shape(record) for record in records]
    well_formed = [position for position, problem in enumerate(problems) if problem is None]
    row_problems = validation_problems(table, [records[position][row_field] for position in well_formed])
    for position, problem in zip(well_formed, row_problems, strict=True):
        problems[position] = problem
    return problems


def _produce_record_shape(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "record must be a JSON object with 'value' (and optionally 'key')"
    unknown = sorted(set(record) - {"key", "value"})
    if unknown:
        return f"field '{unknown[0]}': is not supported (a record has 'value' and optionally 'key')"
    if "value" not in record:
        return "field 'value': is required"
    return None


def _stream_record_shape(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "record must be a JSON object with 'Data' and 'PartitionKey'"
    unknown = sorted(set(record) - {"Data", "PartitionKey", "StreamName"})
    if unknown:
        return f"field '{unknown[0]}': is not supported (a record has 'Data' and 'PartitionKey')"
    key = record.get("PartitionKey")
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_PARTITION_KEY:
        return f"field 'PartitionKey': must be a string of 1 to {MAX_PARTITION_KEY} characters"
    if "Data" not in record:
        return "field 'Data': is required"
    return None


class AccessLog:
    """One structured log line per request: method, path, status, records, duration_ms (never headers)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            access_log.info(
                "request",
                extra={"fields": {
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "records": scope.get("state", {}).get("records", 0),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                }},
            )
