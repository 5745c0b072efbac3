"""A handful of generated posts as Kafka messages: the producer function of the DAG's smoke slice.

Used by the Kafka provider's ``ProduceToTopicOperator`` (referenced by dotted path, so nothing runs at
DAG parse time). Keys are the post's ``ind``; values are the JSON of one source row, as the REST proxy
would write them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from include.pinterest.settings import TABLES
from include.pinterest.source.generator import generate_posts


def sample_messages(table: str, posts: int = 5, seed: int = 7) -> Iterator[tuple[str, str]]:
    if table not in TABLES:
        raise ValueError(f"table must be one of {TABLES}, got {table!r}")
    position = TABLES.index(table)
    for post in generate_posts(posts, seed):
        row = post[position]
        key = row.get("ind", row.get("index"))
        yield str(key), json.dumps(row, default=str, ensure_ascii=False)
