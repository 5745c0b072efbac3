"""Schemas of the three source rows (spec §2), shared by the ingestion API and its tests.

The API validates every record against these before it reaches Kafka or Kinesis, so that the lake only
ever sees rows of the right shape. Validation checks shape and types, not cleanliness: the placeholders
of failed scrapes (``User Info Error``...) are valid input that the silver layer cleans. Numbers must be
JSON numbers (a string ``"12"`` for ``index`` is rejected, because the explicit Spark schemas downstream
would turn it into null), and datetimes are strings in either of the two forms the source emits.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import ErrorDetails

from include.pinterest.tables import CATEGORIES, MEDIA_TYPES

_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?")


def _check_datetime(value: str) -> str:
    """Accept ``2020-08-28T03:52:47`` and ``2020-08-28 03:52:47`` (optional fraction), keep the string."""
    if not _DATETIME.fullmatch(value):
        raise ValueError("must be a datetime 'YYYY-MM-DDTHH:MM:SS' or 'YYYY-MM-DD HH:MM:SS'")
    try:
        datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"is not a real date and time ({exc})") from None
    return value


def _refuse_boolean(value: Any) -> Any:
    """JSON ``false`` is not the integer 0 (``Literal[0, 1]`` alone takes ``False == 0``)."""
    if isinstance(value, bool):
        raise ValueError("must be the integer 0 or 1, not a boolean")
    return value


DateTimeText = Annotated[StrictStr, AfterValidator(_check_datetime)]
Flag = Annotated[Literal[0, 1], BeforeValidator(_refuse_boolean)]
Key = Annotated[StrictInt, Field(ge=0)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PinRow(_Row):
    """One row of ``pinterest_data``."""

    index: Key
    unique_id: StrictStr
    title: StrictStr
    description: StrictStr
    poster_name: StrictStr
    follower_count: StrictStr
    tag_list: StrictStr
    is_image_or_video: Literal[MEDIA_TYPES]  # type: ignore[valid-type]
    image_src: StrictStr
    downloaded: Flag
    save_location: StrictStr
    category: Literal[CATEGORIES]  # type: ignore[valid-type]


class GeoRow(_Row):
    """One row of ``geolocation_data``."""

    ind: Key
    timestamp: DateTimeText
    latitude: Annotated[StrictFloat, Field(ge=-90, le=90)]
    longitude: Annotated[StrictFloat, Field(ge=-180, le=180)]
    country: StrictStr


class UserRow(_Row):
    """One row of ``user_data``."""

    ind: Key
    first_name: StrictStr
    last_name: StrictStr
    age: Annotated[StrictInt, Field(ge=0, le=130)]
    date_joined: DateTimeText


ROW_MODELS: dict[str, type[_Row]] = {"pin": PinRow, "geo": GeoRow, "user": UserRow}


_BATCHES = {table: TypeAdapter(list[model]) for table, model in ROW_MODELS.items()}


def validation_problems(table: str, values: Sequence[Any]) -> list[str | None]:
    """Why each value is not a valid row of ``table`` (None where it is valid).

    The whole batch is validated in one call into pydantic-core, which is what keeps the API fast.
    """
    problems: list[str | None] = [None] * len(values)
    try:
        _BATCHES[table].validate_python(values)
    except ValidationError as exc:
        errors_by_row: dict[int, list[ErrorDetails]] = defaultdict(list)
        for error in exc.errors(include_url=False):
            errors_by_row[int(error["loc"][0])].append(error)
        for row, errors in errors_by_row.items():
            problems[row] = _describe(errors)
    return problems


def validation_problem(table: str, value: Any) -> str | None:
    """Why ``value`` is not a valid row of ``table`` (``"field 'age': ..."``), or None when it is."""
    return validation_problems(table, [value])[0]


def _describe(errors: list[ErrorDetails]) -> str:
    """One line naming every failing field and the rule it broke."""
    parts = []
    for error in errors:
        field = ".".join(str(p) for p in error["loc"][1:]) or "record"
        rule = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            rule = "is not a column of this table"
        parts.append(f"field '{field}': {rule}")
    return "; ".join(parts)
