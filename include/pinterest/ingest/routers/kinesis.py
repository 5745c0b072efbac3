"""``/streams/...``: the Kinesis resources API Gateway exposes (spec §3), over the Kinesis backend.

A stream record's ``Data`` is one source row; Kinesis stores its JSON as the client sent it (API Gateway
base64-encodes the JSON of ``Data``). Invalid records are dead-lettered like the produce API's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from msgspec import Raw

from include.pinterest.ingest.bodies import (
    check_content_type,
    check_stream_name,
    has_body,
    read_body,
    record_list,
    top_level_fields,
)
from include.pinterest.ingest.dependencies import intake_of, kinesis_of, require_api_key, settings_of
from include.pinterest.ingest.errors import ApiError, json_response
from include.pinterest.ingest.intake import INVALID_RECORD, STREAM_RECORDS, Answer, Intake
from include.pinterest.ingest.kinesis import KinesisBackend, KinesisFailure
from include.pinterest.ingest.rows import StreamRecord
from include.pinterest.settings import TABLES

STREAM_CONTENT_TYPES = frozenset({"application/json"})
_CREATE_FIELDS = frozenset({"ShardCount", "StreamName"})
_PUT_RECORD_FIELDS = frozenset({"StreamName", "Data", "PartitionKey"})
_PUT_RECORDS_FIELDS = frozenset({"StreamName", "Records"})

router = APIRouter(prefix="/streams", dependencies=[Depends(require_api_key)])


def stream_table(request: Request, stream_name: str) -> str:
    """The source table of ``stream_name``; 404 for any other stream."""
    tables = {settings_of(request).pipeline.stream(t): t for t in TABLES}
    if stream_name not in tables:
        raise ApiError(404, 40402, f"stream {stream_name!r} not found: use one of {sorted(tables)}")
    return tables[stream_name]


async def kinesis_answer(request: Request, call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The backend's answer; its failures as API errors (503 + Retry-After when Kinesis says retry)."""
    try:
        return await call
    except KinesisFailure as exc:
        code = {404: 40402, 409: 40901, 503: 50302}.get(exc.status, 50201)
        retry_after = settings_of(request).retry_after_s if exc.status == 503 else None
        raise ApiError(exc.status, code, exc.message, retry_after) from None


async def _json_fields(request: Request, allowed: frozenset[str]) -> dict[str, Raw]:
    check_content_type(request, STREAM_CONTENT_TYPES)
    return top_level_fields(await read_body(request, settings_of(request).max_body_bytes), allowed)


@router.get("")
async def list_streams(request: Request, kinesis: KinesisBackend = Depends(kinesis_of)) -> Response:
    """ListStreams."""
    return json_response(await kinesis_answer(request, kinesis.list_streams()))


@router.get("/{stream_name}")
async def describe_stream(
    stream_name: str, request: Request, kinesis: KinesisBackend = Depends(kinesis_of)
) -> Response:
    """DescribeStream."""
    stream_table(request, stream_name)
    return json_response(await kinesis_answer(request, kinesis.describe_stream(stream_name)))


@router.post("/{stream_name}")
async def create_stream(stream_name: str, request: Request, kinesis: KinesisBackend = Depends(kinesis_of)) -> Response:
    """CreateStream; the body ``{"ShardCount": n}`` is optional (one shard by default)."""
    stream_table(request, stream_name)
    shard_count: Any = 1
    if has_body(request):
        fields = await _json_fields(request, _CREATE_FIELDS)
        check_stream_name(fields, stream_name)
        if "ShardCount" in fields:
            shard_count = orjson.loads(bytes(fields["ShardCount"]))
        if type(shard_count) is not int or not 1 <= shard_count <= 100:
            raise ApiError(422, 42202, "field 'ShardCount': must be an integer from 1 to 100")
    return json_response(await kinesis_answer(request, kinesis.create_stream(stream_name, shard_count)))


@router.delete("/{stream_name}")
async def delete_stream(stream_name: str, request: Request, kinesis: KinesisBackend = Depends(kinesis_of)) -> Response:
    """DeleteStream."""
    stream_table(request, stream_name)
    return json_response(await kinesis_answer(request, kinesis.delete_stream(stream_name)))


@router.put("/{stream_name}/record")
async def put_record(
    stream_name: str,
    request: Request,
    intake: Intake = Depends(intake_of),
    kinesis: KinesisBackend = Depends(kinesis_of),
) -> Response:
    """PutRecord: the body is one record; an invalid one is answered 422 (42201) and dead-lettered."""
    table = stream_table(request, stream_name)
    check_content_type(request, STREAM_CONTENT_TYPES)
    body = await read_body(request, intake.settings.max_body_bytes)
    check_stream_name(top_level_fields(body, _PUT_RECORD_FIELDS), stream_name)
    request.state.records = 1

    async def to_stream(valid: list[StreamRecord]) -> list[Answer]:
        [record] = valid
        return [await kinesis_answer(request, kinesis.put_record(stream_name, bytes(record.Data), record.PartitionKey))]

    [answer] = await intake.take(table, stream_name, [Raw(body)], STREAM_RECORDS, to_stream)
    if answer.get("error_code") == INVALID_RECORD:
        raise ApiError(422, INVALID_RECORD, answer["ErrorMessage"])
    return json_response(answer)


@router.put("/{stream_name}/records")
async def put_records(
    stream_name: str,
    request: Request,
    intake: Intake = Depends(intake_of),
    kinesis: KinesisBackend = Depends(kinesis_of),
) -> Response:
    """PutRecords: per-record results in request order; invalid records fail with their reason."""
    table = stream_table(request, stream_name)
    fields = await _json_fields(request, _PUT_RECORDS_FIELDS)
    records = record_list(fields, "Records", intake.settings.max_records)
    check_stream_name(fields, stream_name)
    request.state.records = len(records)

    async def to_stream(valid: list[StreamRecord]) -> list[Answer]:
        entries = [(bytes(r.Data), r.PartitionKey) for r in valid]
        return (await kinesis_answer(request, kinesis.put_records(stream_name, entries)))["Records"]

    answers = await intake.take(table, stream_name, records, STREAM_RECORDS, to_stream)
    failed = sum(1 for answer in answers if answer.get("ErrorCode"))
    return json_response({"FailedRecordCount": failed, "Records": answers})
