"""The record checks of the hot path: ``include.pinterest.records``' row models compiled into msgspec structs.

The structs are derived from the pydantic models (field names, types, bounds, closed value sets and their
own after-validators, such as the real-date check), so the rules have one home and run in C at about a
microsecond per row. A refused record is explained by ``records`` (the message names the field and the
rule); ``tests/pinterest/ingest/test_rows.py`` holds the structs to never being looser than ``records``. A check leaves the client's bytes untouched
(``msgspec.Raw``), so what reaches Kafka and Kinesis is the row exactly as it was sent and validated.
The structs hold only scalars and raw bytes, never a container, so they cannot be part of a reference
cycle: ``gc=False`` keeps the hundreds built per request out of the cyclic collector's count and scans.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import annotated_types
import msgspec
from msgspec import Meta, Raw, Struct
from pydantic import AfterValidator, BaseModel

from include.pinterest.records import ROW_MODELS

MAX_PARTITION_KEY = 256
JSON_NULL = Raw(b"null")
_BOUNDS = {annotated_types.Ge: "ge", annotated_types.Le: "le", annotated_types.Gt: "gt", annotated_types.Lt: "lt"}


def compiled_row(model: type[BaseModel]) -> type[Struct]:
    """A struct with the model's fields and rules: unknown fields refused, every field required."""
    fields: list[tuple[str, Any]] = []
    checks: list[tuple[str, Callable[[Any], Any]]] = []
    for name, info in model.model_fields.items():
        bounds = {_BOUNDS[type(m)]: getattr(m, _BOUNDS[type(m)]) for m in info.metadata if type(m) in _BOUNDS}
        fields.append((name, Annotated[info.annotation, Meta(**bounds)] if bounds else info.annotation))
        checks += [(name, m.func) for m in info.metadata if isinstance(m, AfterValidator)]

    def __post_init__(self: Struct) -> None:
        for name, check in checks:
            check(getattr(self, name))  # raises ValueError, which msgspec reports as a validation error

    namespace = {"__post_init__": __post_init__} if checks else {}
    return msgspec.defstruct(model.__name__, fields, namespace=namespace, forbid_unknown_fields=True, gc=False)


ROWS: dict[str, type[Struct]] = {table: compiled_row(model) for table, model in ROW_MODELS.items()}


class ProduceRecord(Struct, forbid_unknown_fields=True, gc=False):
    """One REST Proxy v2 record: ``value`` is the row; ``key`` is any JSON value (absent or null: no key)."""

    value: Raw
    key: Raw = JSON_NULL


class StreamRecord(Struct, forbid_unknown_fields=True, gc=False):
    """One Kinesis record as API Gateway takes it: ``Data`` is the row (``StreamName`` is tolerated)."""

    Data: Raw
    PartitionKey: Annotated[str, Meta(min_length=1, max_length=MAX_PARTITION_KEY)]
    StreamName: Raw = JSON_NULL
