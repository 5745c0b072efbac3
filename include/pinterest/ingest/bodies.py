"""Reading request bodies: size limits while reading, content types, and the top-level object.

The top level is decoded into ``{field: msgspec.Raw}``: each field keeps its bytes, so a records array is
split into records without building a Python object per value, and each record's row can go to Kafka as
it came. The rules and messages are those of the OpenAPI document (422 with the field and the rule).
"""

from __future__ import annotations

import msgspec
import orjson
from fastapi import Request
from msgspec import Raw

from include.pinterest.ingest.errors import ApiError

_TOP_LEVEL = msgspec.json.Decoder(dict[str, Raw])
_ARRAY = msgspec.json.Decoder(list[Raw])


def check_content_type(request: Request, allowed: frozenset[str]) -> None:
    given = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if given not in allowed:
        raise ApiError(415, 41501, f"Content-Type must be one of {sorted(allowed)}, got {given or 'none'!r}")


def has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return bool(length and length != "0") or "chunked" in request.headers.get("transfer-encoding", "")


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body; 413 past ``limit`` bytes, checked while reading (a chunked body has no length)."""
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
    return b"".join(chunks)


def top_level_fields(body: bytes, allowed: frozenset[str], what: str = "body") -> dict[str, Raw]:
    """The body's fields, undecoded; 400 if it is not JSON, 422 if it is not an object of ``allowed`` fields."""
    try:
        return _check_fields(_TOP_LEVEL.decode(body), allowed, what)
    except msgspec.ValidationError:
        pass  # valid JSON up to where it stopped being an object: say what it is, or that it is not JSON
    except msgspec.DecodeError as exc:
        raise ApiError(400, 40001, f"malformed JSON: {exc}") from None
    try:
        kind = type(orjson.loads(body)).__name__
    except orjson.JSONDecodeError as exc:
        raise ApiError(400, 40001, f"malformed JSON: {exc}") from None
    raise ApiError(422, 42202, f"{what} must be a JSON object, got {kind}")


def _check_fields(fields: dict[str, Raw], allowed: frozenset[str], what: str) -> dict[str, Raw]:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ApiError(422, 42202, f"field '{unknown[0]}': is not allowed in the {what} (allowed: {sorted(allowed)})")
    return fields


def record_list(fields: dict[str, Raw], name: str, max_items: int) -> list[Raw]:
    """The records of field ``name``, each still undecoded; 422 unless a non-empty array, 413 past the limit."""
    try:
        records = _ARRAY.decode(fields[name]) if name in fields else []
    except msgspec.ValidationError:
        records = []
    if not records:
        raise ApiError(422, 42202, f"field '{name}': must be a non-empty array of records")
    if len(records) > max_items:
        raise ApiError(413, 41302, f"field '{name}': {len(records)} records, the limit is {max_items} per request")
    return records


def check_stream_name(fields: dict[str, Raw], stream_name: str) -> None:
    """A ``StreamName`` in the body, when given, must be the stream of the path."""
    if "StreamName" in fields and orjson.loads(bytes(fields["StreamName"])) != stream_name:
        raise ApiError(422, 42202, f"field 'StreamName': must match the stream in the path ({stream_name!r})")
