"""Whole posts (the pin, geo and user rows at one index) read from the source database.

One pooled engine serves the whole run and every read is consumed in batches, so memory depends on the
batch size, never on the size of the source. Each row comes out as its JSON, encoded once, with datetimes
as ISO-8601 strings: exactly the bytes the ingestion API gets.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from random import Random
from typing import Any

import orjson
from sqlalchemy import DateTime, Engine, Select, create_engine, func, select

from include.pinterest.source.tables import geolocation_data, pinterest_data, user_data


@dataclass(frozen=True, slots=True)
class Post:
    """One event: three records sharing ``ind``, each the JSON of its row."""

    ind: int
    pin: bytes
    geo: bytes
    user: bytes


class SourceEmpty(RuntimeError):
    """The source has no posts to send."""


def open_source(url: str) -> Engine:
    """The run's single engine: a small pool, with a liveness check for servers that drop idle links."""
    return create_engine(url, pool_size=2, max_overflow=0, pool_pre_ping=True)


class PostReader:
    """Reads posts sequentially or samples them with replacement; both in constant memory."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        geo_columns = [c for c in geolocation_data.c if c.name != "ind"]
        user_columns = [c for c in user_data.c if c.name != "ind"]
        columns = [*pinterest_data.c, *geo_columns, *user_columns]
        # Plain str keys (SQLAlchemy names are str subclasses, which some JSON encoders refuse). Rows are
        # read by position: the pin columns, then geo's, then user's (building dicts by name costs more).
        self._pin_keys = tuple(str(c.name) for c in pinterest_data.c)
        self._geo_keys = ("ind", *(str(c.name) for c in geo_columns))
        self._user_keys = ("ind", *(str(c.name) for c in user_columns))
        self._geo_end = len(self._pin_keys) + len(geo_columns)
        self._datetimes = tuple(i for i, c in enumerate(columns) if isinstance(c.type, DateTime))
        self._query: Select[Any] = (
            select(
                *pinterest_data.c,
                *(c.label(f"geo__{c.name}") for c in geo_columns),
                *(c.label(f"user__{c.name}") for c in user_columns),
            )
            .join(geolocation_data, geolocation_data.c.ind == pinterest_data.c.index)
            .join(user_data, user_data.c.ind == pinterest_data.c.index)
        )
        # The sampling statement as the database's own SQL, compiled once: see ``sampled``.
        self._sample_sql = f"{self._query.compile(dialect=engine.dialect)} WHERE " + str(
            pinterest_data.c.index.compile(dialect=engine.dialect)
        )

    def bounds(self) -> tuple[int, int, int]:
        """(count, smallest index, largest index) of the posts."""
        with self._engine.connect() as conn:
            count, low, high = conn.execute(
                select(func.count(), func.min(pinterest_data.c.index), func.max(pinterest_data.c.index))
            ).one()
        if not count:
            raise SourceEmpty("the source table pinterest_data has no rows")
        return count, low, high

    def sequential(self, batch_size: int) -> Iterator[list[Post]]:
        """All posts in index order, again and again (the caller decides when to stop)."""
        self.bounds()
        while True:
            with self._engine.connect() as conn:
                # A server-side cursor where the driver has one: memory stays at one batch on any source.
                result = conn.execution_options(stream_results=True, yield_per=batch_size).execute(
                    self._query.order_by(pinterest_data.c.index)
                )
                for rows in result.partitions():
                    yield [self._post(row) for row in rows]

    def sampled(self, batch_size: int, seed: int) -> Iterator[list[Post]]:
        """Random posts with replacement (duplicates are normal input), reproducible from ``seed``.

        The hot path of a load test: each batch goes straight to the driver's cursor, the indexes drawn here
        written into the statement as integer literals. Through SQLAlchemy (an expanding bind parameter,
        a Row and a type conversion per value) the reader cost about twice the driver's own time.
        """
        _, low, high = self.bounds()
        rng = Random(seed)
        with self._engine.connect() as conn:
            cursor = conn.connection.cursor()
            try:
                while True:
                    wanted = [rng.randint(low, high) for _ in range(batch_size)]
                    cursor.execute(f"{self._sample_sql} IN ({','.join(map(str, set(wanted)))})")
                    found = {post.ind: post for post in map(self._post, cursor.fetchall())}
                    # Indexes missing from a source with gaps are skipped; the caller keeps counting.
                    yield [found[index] for index in wanted if index in found]
            finally:
                cursor.close()

    def _post(self, values: Sequence[Any]) -> Post:
        """A post from one row of ``_query``; a datetime becomes ISO-8601 text whether the driver gives a
        ``datetime`` or, as SQLite does, the stored text."""
        if self._datetimes:
            values = list(values)
            for i in self._datetimes:
                values[i] = _iso(values[i])
        pins, geo_end = len(self._pin_keys), self._geo_end
        pin = dict(zip(self._pin_keys, values[:pins], strict=True))
        ind = pin["index"]
        return Post(
            ind,
            orjson.dumps(pin),
            orjson.dumps(dict(zip(self._geo_keys, (ind, *values[pins:geo_end]), strict=True))),
            orjson.dumps(dict(zip(self._user_keys, (ind, *values[geo_end:]), strict=True))),
        )


def _iso(value: datetime | str) -> str:
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).isoformat()
