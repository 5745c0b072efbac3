"""The one shape of every write, for Kafka and Kinesis alike: split the records of a request into valid
and invalid, dead-letter the invalid with their reason, deliver the valid, answer per record in order.

A rejected record is in the dead-letter topic before anything of its request is delivered, and a
transient Kafka fault on either write answers 503 + Retry-After, so a client that retries loses nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec
import orjson
from msgspec import Raw

from include.pinterest.ingest.config import IngestSettings
from include.pinterest.ingest.errors import ApiError
from include.pinterest.ingest.producer import BrokerUnavailable, Delivery, OutgoingMessage, RecordProducer
from include.pinterest.ingest.rows import MAX_PARTITION_KEY, ROWS, ProduceRecord, StreamRecord
from include.pinterest.records import validation_problem

log = logging.getLogger("pinterest.ingest")
INVALID_RECORD = 42201
_ROW_DECODERS = {table: msgspec.json.Decoder(row) for table, row in ROWS.items()}

Answer = dict[str, Any]


@dataclass(frozen=True)
class RecordFormat:
    """How the records of one kind of request look.

    ``decoder`` checks the envelope at C speed; ``row_field`` names the field holding the row;
    ``envelope_problem`` states the envelope rules in words (only run to explain a refused record);
    ``rejection`` is the per-record answer for an invalid record.
    """

    decoder: msgspec.json.Decoder[Any]
    row_field: str
    envelope_problem: Callable[[Any], str | None]
    rejection: Callable[[str], Answer]


@dataclass(slots=True)
class Rejected:
    position: int
    reason: str
    record: bytes


def split_records(
    table: str, records: Sequence[Raw], form: RecordFormat
) -> tuple[list[tuple[int, Any]], list[Rejected]]:
    """(position, decoded envelope) of the valid records and the invalid ones with their reason."""
    row_decoder = _ROW_DECODERS[table]
    valid: list[tuple[int, Any]] = []
    invalid: list[Rejected] = []
    for position, raw in enumerate(records):
        try:
            record = form.decoder.decode(raw)
            row_decoder.decode(getattr(record, form.row_field))
        except msgspec.ValidationError as exc:
            invalid.append(Rejected(position, _explain(table, raw, form, exc), bytes(raw)))
        else:
            valid.append((position, record))
    return valid, invalid


def _explain(table: str, raw: Raw, form: RecordFormat, exc: msgspec.ValidationError) -> str:
    """The reason in the contract's words: the envelope rules, else the row's fields and rules."""
    record = orjson.loads(bytes(raw))
    reason = form.envelope_problem(record) or validation_problem(table, record[form.row_field])
    return reason or _field_and_rule(exc)


def _field_and_rule(exc: msgspec.ValidationError) -> str:
    """msgspec's ``Expected `int`, got `bool` - at `$.downloaded``` as ``field 'downloaded': Expected ...``.

    Only for what the compiled check refuses and ``records`` lets through (JSON ``false`` for
    ``downloaded``: pydantic's ``Literal[0, 1]`` takes ``False == 0``, the OpenAPI document does not).
    """
    rule, _, path = str(exc).partition(" - at `$.")
    return f"field '{path.rstrip('`') or 'record'}': {rule}"


class Intake:
    """Writes through the shared Kafka producer: the records of the produce API and every dead letter."""

    def __init__(self, producer: RecordProducer, settings: IngestSettings) -> None:
        self.producer = producer
        self.settings = settings

    async def to_kafka(self, messages: Sequence[OutgoingMessage]) -> list[Delivery]:
        """Produce, turning every transient broker fault into 503 + Retry-After."""
        try:
            await self.producer.ensure_reachable()
            deliveries = await self.producer.produce(messages)
        except BrokerUnavailable as exc:
            raise ApiError(503, 50301, f"Kafka is unavailable: {exc}", self.settings.retry_after_s) from None
        transient = next((d for d in deliveries if d.transient), None)
        if transient is not None:
            raise ApiError(503, 50301, f"Kafka did not acknowledge: {transient.error}", self.settings.retry_after_s)
        return deliveries

    async def take(
        self,
        table: str,
        source: str,
        records: Sequence[Raw],
        form: RecordFormat,
        deliver: Callable[[list[Any]], Awaitable[list[Answer]]],
    ) -> list[Answer]:
        """Split, dead-letter, deliver; one answer per record, in request order."""
        valid, invalid = split_records(table, records, form)
        answers: list[Answer] = [{}] * len(records)
        if invalid:
            await self._dead_letter(source, invalid)
            for rejected in invalid:
                answers[rejected.position] = form.rejection(rejected.reason)
        if valid:
            delivered = await deliver([record for _, record in valid])
            for (position, _), answer in zip(valid, delivered, strict=True):
                answers[position] = answer
        return answers

    async def _dead_letter(self, source: str, invalid: list[Rejected]) -> None:
        received_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        topic = self.settings.pipeline.dlq_topic
        letters = [
            OutgoingMessage(
                topic,
                None,
                orjson.dumps(
                    {
                        "source": source,
                        "reason": r.reason,
                        "payload": orjson.Fragment(r.record),
                        "received_at": received_at,
                    }
                ),
            )
            for r in invalid
        ]
        for delivery in await self.to_kafka(letters):
            if delivery.error:
                log.error("dead-letter write failed: %s", delivery.error)


def _produce_envelope_problem(record: Any) -> str | None:
    if not isinstance(record, dict):
        return "record must be a JSON object with 'value' (and optionally 'key')"
    unknown = sorted(set(record) - {"key", "value"})
    if unknown:
        return f"field '{unknown[0]}': is not supported (a record has 'value' and optionally 'key')"
    if "value" not in record:
        return "field 'value': is required"
    return None


def _stream_envelope_problem(record: Any) -> str | None:
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


def offset_answer(
    partition: int | None = None, offset: int | None = None, error_code: int | None = None, error: str | None = None
) -> Answer:
    return {"partition": partition, "offset": offset, "error_code": error_code, "error": error}


PRODUCE_RECORDS = RecordFormat(
    decoder=msgspec.json.Decoder(ProduceRecord),
    row_field="value",
    envelope_problem=_produce_envelope_problem,
    rejection=lambda reason: offset_answer(error_code=INVALID_RECORD, error=reason),
)
STREAM_RECORDS = RecordFormat(
    decoder=msgspec.json.Decoder(StreamRecord),
    row_field="Data",
    envelope_problem=_stream_envelope_problem,
    rejection=lambda reason: {"ErrorCode": "InvalidRecord", "ErrorMessage": reason, "error_code": INVALID_RECORD},
)
