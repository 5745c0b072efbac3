"""The record checks of the hot path, compiled once with msgspec (about a microsecond per record, in C).

``include.pinterest.records`` stays the contract: a record these checks refuse is explained there (the
message names the field and the rule) and is accepted after all if the contract accepts it. So these
structs may be stricter than the contract but never looser; ``tests/ingestion/test_rows.py`` holds them
to that. A check leaves the client's bytes untouched (``msgspec.Raw``), so what reaches Kafka and Kinesis
is the row exactly as it was sent and validated, never re-encoded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from msgspec import Meta, Raw, Struct

from include.pinterest.domain import CATEGORIES, MEDIA_TYPES

MAX_PARTITION_KEY = 256
JSON_NULL = Raw(b"null")

Key = Annotated[int, Meta(ge=0)]
DateTimeText = Annotated[str, Meta(pattern=r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?\Z")]


class _Row(Struct, forbid_unknown_fields=True):
    pass


class PinRow(_Row):
    index: Key
    unique_id: str
    title: str
    description: str
    poster_name: str
    follower_count: str
    tag_list: str
    is_image_or_video: Literal[MEDIA_TYPES]  # type: ignore[valid-type]
    image_src: str
    downloaded: Literal[0, 1]
    save_location: str
    category: Literal[CATEGORIES]  # type: ignore[valid-type]


class GeoRow(_Row):
    ind: Key
    timestamp: DateTimeText
    latitude: Annotated[float, Meta(ge=-90, le=90)]
    longitude: Annotated[float, Meta(ge=-180, le=180)]
    country: str

    def __post_init__(self) -> None:
        datetime.fromisoformat(self.timestamp)  # a real date and time (no 30 February)


class UserRow(_Row):
    ind: Key
    first_name: str
    last_name: str
    age: Annotated[int, Meta(ge=0, le=130)]
    date_joined: DateTimeText

    def __post_init__(self) -> None:
        datetime.fromisoformat(self.date_joined)


ROWS: dict[str, type[_Row]] = {"pin": PinRow, "geo": GeoRow, "user": UserRow}


class ProduceRecord(Struct, forbid_unknown_fields=True):
    """One REST Proxy v2 record: ``value`` is the row; ``key`` is any JSON value (absent or null: no key)."""

    value: Raw
    key: Raw = JSON_NULL


class StreamRecord(Struct, forbid_unknown_fields=True):
    """One Kinesis record as API Gateway takes it: ``Data`` is the row (``StreamName`` is tolerated)."""

    Data: Raw
    PartitionKey: Annotated[str, Meta(min_length=1, max_length=MAX_PARTITION_KEY)]
    StreamName: Raw = JSON_NULL
