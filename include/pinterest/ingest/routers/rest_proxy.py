"""``POST /topics/{topic}``: the produce subset of Confluent REST Proxy v2 (JSON embedded format).

Answers per-record ``offsets`` in request order; an invalid record gets error 42201 and goes to the
dead-letter topic, the others are produced with acks=all by the shared idempotent producer.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from msgspec import Raw

from include.pinterest.ingest.bodies import check_content_type, read_body, record_list, top_level_fields
from include.pinterest.ingest.dependencies import intake_of, require_api_key, settings_of
from include.pinterest.ingest.errors import ApiError
from include.pinterest.ingest.intake import PRODUCE_RECORDS, Answer, Intake, offset_answer
from include.pinterest.ingest.producer import Delivery, OutgoingMessage
from include.pinterest.ingest.rows import ProduceRecord
from include.pinterest.settings import TABLES

PRODUCE_CONTENT_TYPES = frozenset({"application/vnd.kafka.json.v2+json", "application/json"})
PRODUCE_RESPONSE_TYPE = "application/vnd.kafka.v2+json"
_BODY_FIELDS = frozenset({"records"})

router = APIRouter(dependencies=[Depends(require_api_key)])


def topic_table(request: Request, topic: str) -> str:
    """The source table of ``topic``; 404 for any other topic."""
    tables = {settings_of(request).pipeline.topic(t): t for t in TABLES}
    if topic not in tables:
        raise ApiError(404, 40401, f"topic {topic!r} not found: use one of {sorted(tables)}")
    return tables[topic]


@router.post("/topics/{topic}")
async def produce(topic: str, request: Request, intake: Intake = Depends(intake_of)) -> Response:
    """Confluent REST Proxy v2 produce: per-record offsets or errors, in request order."""
    table = topic_table(request, topic)
    check_content_type(request, PRODUCE_CONTENT_TYPES)
    settings = intake.settings
    fields = top_level_fields(await read_body(request, settings.max_body_bytes), _BODY_FIELDS)
    records = record_list(fields, "records", settings.max_records)
    request.state.records = len(records)

    async def to_topic(valid: list[ProduceRecord]) -> list[Answer]:
        messages = [OutgoingMessage(topic, _key_bytes(r.key), r.value) for r in valid]
        return [_offset_of(d) for d in await intake.to_kafka(messages)]

    offsets = await intake.take(table, topic, records, PRODUCE_RECORDS, to_topic)
    body: dict[str, Any] = {"offsets": offsets, "key_schema_id": None, "value_schema_id": None}
    return Response(orjson.dumps(body), 200, media_type=PRODUCE_RESPONSE_TYPE)


def _key_bytes(key: Raw) -> bytes | None:
    """The Kafka key: the JSON of the record's ``key``; an absent or null key means no key."""
    encoded = bytes(key)
    return None if encoded == b"null" else encoded


def _offset_of(delivery: Delivery) -> Answer:
    if delivery.error is None:
        return offset_answer(partition=delivery.partition, offset=delivery.offset)
    return offset_answer(error_code=40401 if delivery.unknown_topic else 50002, error=delivery.error)
