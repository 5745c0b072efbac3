"""Deterministic generator of the source tables (spec §2), with the dirt the pipeline must clean.

The original data sat in a private MySQL database; this generator reproduces its schema and its kinds of
dirt (failed scrapes, placeholders, ``10k``/``1.5M`` follower counts, non-ASCII and emoji text, under-age
users) from one seed, so every run of the pipeline is reproducible. It draws from ``random.Random(seed)``
and precomputed pools (no Faker per row) and writes with SQLAlchemy Core ``executemany`` in large batches:
about a million rows per table in well under a minute on SQLite.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, inspect, select

from include.pinterest.source.pools import COUNTRIES, FIRST_NAMES, LAST_NAMES
from include.pinterest.source.tables import (
    geolocation_data,
    metadata,
    pinterest_data,
    source_meta,
    user_data,
)
from include.pinterest.tables import CATEGORIES

log = logging.getLogger(__name__)

PLACEHOLDER_TITLE = "No Title Data Available"
PLACEHOLDER_DESCRIPTIONS = ("No description available Story format", "No description available")
PLACEHOLDER_USER = "User Info Error"
PLACEHOLDER_TAGS = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"
PLACEHOLDER_IMAGE = "Image src error."

FAILED_SCRAPE_SHARE = 0.012
# Individual placeholders on otherwise good rows.
PLACEHOLDER_SHARE = {
    "title": 0.008,
    "description": 0.01,
    "poster_name": 0.003,
    "follower_count": 0.003,
    "tag_list": 0.005,
    "image_src": 0.005,
}
# follower_count on good rows: ~75% "<n>k", ~17% digits, the rest "<n>M" (spec §2 shares).
FOLLOWERS_K_SHARE = 0.752
FOLLOWERS_DIGITS_SHARE = 0.1725
UNDER_18_SHARE = 0.02

_GEO_START = datetime(2017, 1, 1)
_GEO_SPAN_S = int((datetime(2023, 1, 1) - _GEO_START).total_seconds())
_JOIN_START = datetime(2015, 1, 1)
_JOIN_SPAN_S = int((datetime(2018, 1, 1) - _JOIN_START).total_seconds())

_TOPICS = {
    "art": ("Watercolor Painting", "Abstract Art", "Sketchbook Ideas", "Acrylic Pour", "Aquarelle"),
    "beauty": ("Makeup Looks", "Skin Care Routine", "Nail Art", "Hairstyles", "Maquillage"),
    "christmas": ("Christmas Tree Ideas", "Holiday Cookies", "Advent Calendar", "Weihnachtsdeko", "Stockings"),
    "diy-and-crafts": ("Paper Crafts", "Macrame Wall Hanging", "Upcycled Jars", "Crochet Pattern", "Origami"),
    "education": ("Classroom Ideas", "Study Tips", "Math Games", "Reading Corner", "Science Projects"),
    "event-planning": ("Wedding Decor", "Party Themes", "Baby Shower", "Table Settings", "Fête"),
    "finance": ("Budget Planner", "Saving Money", "Debt Payoff", "Side Hustle", "Investing 101"),
    "home-decor": ("Living Room Ideas", "Scandi Bedroom", "Boho Decor", "Kitchen Makeover", "Wohnzimmer"),
    "mens-fashion": ("Street Style", "Casual Outfits", "Suits", "Sneakers", "Moda Uomo"),
    "quotes": ("Motivational Quotes", "Life Quotes", "Love Quotes", "Citations", "Zitate"),
    "tattoos": ("Small Tattoos", "Sleeve Tattoo", "Fine Line Tattoo", "Tatuajes", "Minimalist Ink"),
    "travel": ("Travel Destinations", "Road Trip", "Backpacking Europe", "Voyage", "Hidden Beaches"),
    "vehicles": ("Classic Cars", "Motorcycles", "Camper Van", "Off Road", "Oldtimer"),
}
_ADJECTIVES = (
    "Best",
    "Easy",
    "Beautiful",
    "Cute",
    "Amazing",
    "Simple",
    "Très jolie",
    "Schöne",
    "Bonita",
    "美しい",
    "Красивые",
    "Top 10",
    "Creative",
    "Cozy",
    "Modern",
    "Vintage",
)
_DECORATIONS = ("", "", "", "", " ✨", " ❤️", " 🎄", " 🔥", " 😍", " 🌸", " ✔", " — ideas", " | DIY", " 💡")
_PHRASES = (
    "Discover easy ideas for every day.",
    "Find and save ideas about this on Pinterest.",
    "Ideas que te encantarán.",
    "Des idées à découvrir.",
    "Step by step tutorial with pictures.",
    "Our favourite picks this season 🌟.",
    "So simple, anyone can do it!",
    "日本語の説明もあります。",
    "Click through for the full post.",
    "Save this pin for later 📌.",
)
_POSTER_SUFFIXES = ("", " Design", " Ideas", " Studio", " | Home Decor", " Blog", " Co.", " ✿", " Official")
_TAGS = {c: tuple(f"{t} {s}".strip() for t in topics for s in ("", "Ideas")) for c, topics in _TOPICS.items()}
_INCONSISTENT = (-1, -1)
_MEDIA = (("image", 0.8), ("video", 0.95), ("multi-video(story page format)", 1.0))


@dataclass(frozen=True)
class SourceWrite:
    """What ``write_source`` did: ``created`` is False when matching tables were already there."""

    url: str
    rows: int
    seed: int
    created: bool
    seconds: float


class SourceExists(RuntimeError):
    """The tables exist with other contents and replacing them was not asked for."""


def generate_posts(rows: int, seed: int) -> Iterator[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """Yield ``rows`` posts as (pin, geo, user) row dicts sharing the index ``0..rows-1``."""
    if rows < 0:
        raise ValueError(f"rows must be >= 0, got {rows}")
    rng = Random(seed)
    posters = tuple(
        f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}{rng.choice(_POSTER_SUFFIXES)}" for _ in range(2000)
    )
    for index in range(rows):
        yield _pin(rng, index, posters), _geo(rng, index), _user(rng, index)


def _pin(rng: Random, index: int, posters: tuple[str, ...]) -> dict[str, Any]:
    category = CATEGORIES[int(rng.random() * len(CATEGORIES))]
    unique_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if rng.random() < FAILED_SCRAPE_SHARE:
        return {
            "index": index,
            "unique_id": unique_id,
            "title": PLACEHOLDER_TITLE,
            "description": PLACEHOLDER_DESCRIPTIONS[0],
            "poster_name": PLACEHOLDER_USER,
            "follower_count": PLACEHOLDER_USER,
            "tag_list": PLACEHOLDER_TAGS,
            "is_image_or_video": "multi-video(story page format)",
            "image_src": PLACEHOLDER_IMAGE,
            "downloaded": 0,
            "save_location": f"Local save in /data/{category}",
            "category": category,
        }
    topics = _TOPICS[category]
    topic = topics[int(rng.random() * len(topics))]
    title = f"{_ADJECTIVES[int(rng.random() * len(_ADJECTIVES))]} {topic}"
    title += _DECORATIONS[int(rng.random() * len(_DECORATIONS))]
    description = f"{topic}: {_PHRASES[int(rng.random() * len(_PHRASES))]}"
    tags = _TAGS[category]
    image_hash = f"{rng.getrandbits(128):032x}"
    media_draw = rng.random()
    return {
        "index": index,
        "unique_id": unique_id,
        "title": PLACEHOLDER_TITLE if rng.random() < PLACEHOLDER_SHARE["title"] else title,
        "description": (
            PLACEHOLDER_DESCRIPTIONS[int(rng.random() * 2)]
            if rng.random() < PLACEHOLDER_SHARE["description"]
            else description
        ),
        "poster_name": (
            PLACEHOLDER_USER
            if rng.random() < PLACEHOLDER_SHARE["poster_name"]
            else posters[int(rng.random() * len(posters))]
        ),
        "follower_count": (
            PLACEHOLDER_USER if rng.random() < PLACEHOLDER_SHARE["follower_count"] else _follower_count(rng)
        ),
        "tag_list": (
            PLACEHOLDER_TAGS
            if rng.random() < PLACEHOLDER_SHARE["tag_list"]
            else ",".join(rng.sample(tags, 2 + int(rng.random() * 5)))
        ),
        "is_image_or_video": next(kind for kind, upper in _MEDIA if media_draw < upper),
        "image_src": (
            PLACEHOLDER_IMAGE
            if rng.random() < PLACEHOLDER_SHARE["image_src"]
            else f"https://i.pinimg.com/originals/{image_hash[:2]}/{image_hash[2:4]}/{image_hash[4:6]}/{image_hash}.jpg"
        ),
        "downloaded": 1,
        "save_location": f"Local save in /data/{category}",
        "category": category,
    }


def _follower_count(rng: Random) -> str:
    draw = rng.random()
    if draw < FOLLOWERS_K_SHARE:
        if rng.random() < 0.08:
            return f"{1 + int(rng.random() * 9)}.{1 + int(rng.random() * 9)}k"
        return f"{1 + int(rng.random() * 999)}k"
    if draw < FOLLOWERS_K_SHARE + FOLLOWERS_DIGITS_SHARE:
        return str(int(rng.random() * 1000))
    if rng.random() < 0.2:
        return f"{1 + int(rng.random() * 9)}.{1 + int(rng.random() * 9)}M"
    return f"{1 + int(rng.random() * 12)}M"


def _geo(rng: Random, index: int) -> dict[str, Any]:
    return {
        "ind": index,
        "timestamp": _GEO_START + timedelta(seconds=int(rng.random() * _GEO_SPAN_S)),
        "latitude": round(rng.random() * 180 - 90, 5),
        "longitude": round(rng.random() * 360 - 180, 5),
        "country": COUNTRIES[int(rng.random() * len(COUNTRIES))],
    }


def _user(rng: Random, index: int) -> dict[str, Any]:
    if rng.random() < UNDER_18_SHARE:  # noqa: SIM108  (two draws in a fixed order: the generator is seeded)
        age = 13 + int(rng.random() * 5)
    else:
        age = 18 + int(rng.random() ** 1.6 * 58)  # 18-75, skewed young like a social network
    return {
        "ind": index,
        "first_name": FIRST_NAMES[int(rng.random() * len(FIRST_NAMES))],
        "last_name": LAST_NAMES[int(rng.random() * len(LAST_NAMES))],
        "age": age,
        "date_joined": _JOIN_START + timedelta(seconds=int(rng.random() * _JOIN_SPAN_S)),
    }


# The local platform's source: what the DAG generates when it is missing and `make source` writes.
LOCAL_ROWS = 11_000
LOCAL_SEED = 7


def local_source_url(state_dir: str | os.PathLike) -> str:
    """The local platform's source database in a state folder: ``sqlite:///<state>/data/source.db``."""
    return f"sqlite:///{os.path.join(state_dir, 'data', 'source.db')}"


def default_source_url() -> str:
    """The source of the platform instance in ``PINTEREST_STATE_DIR`` (``.state/dev`` by default)."""
    return local_source_url(os.environ.get("PINTEREST_STATE_DIR") or os.path.join(".state", "dev"))


def source_engine(url: str) -> Engine:
    """Engine for the source; a SQLite file's folder is created, and SQLite skips fsync for bulk loads."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)

        @event.listens_for(engine, "connect")
        def _fast_sqlite(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()

    return engine


def write_source(url: str, rows: int, seed: int, *, replace: bool = False, batch_size: int = 20_000) -> SourceWrite:
    """Create and fill the three tables; skip when they already hold ``rows`` rows from ``seed``."""
    started = time.perf_counter()
    engine = source_engine(url)
    try:
        existing = _existing(engine)
        if existing == (rows, seed) and not replace:
            log.info("source tables already hold %d rows from seed %d: skipping", rows, seed)
            return SourceWrite(url, rows, seed, False, time.perf_counter() - started)
        if existing is not None and not replace:
            found = "partial or inconsistent tables" if existing == _INCONSISTENT else f"(rows, seed) = {existing}"
            raise SourceExists(f"source holds {found}, asked for {(rows, seed)}: pass --replace to recreate")
        metadata.drop_all(engine)
        metadata.create_all(engine)
        batch: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
        with engine.begin() as conn:
            for post in generate_posts(rows, seed):
                batch.append(post)
                if len(batch) >= batch_size:
                    _insert(conn, batch)
                    batch = []
            if batch:
                _insert(conn, batch)
            conn.execute(source_meta.insert(), {"rows": rows, "seed": seed})
        return SourceWrite(url, rows, seed, True, time.perf_counter() - started)
    finally:
        engine.dispose()


def _insert(conn: Any, batch: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]) -> None:
    pins, geos, users = zip(*batch, strict=True)
    conn.execute(pinterest_data.insert(), list(pins))
    conn.execute(geolocation_data.insert(), list(geos))
    conn.execute(user_data.insert(), list(users))


def _existing(engine: Engine) -> tuple[int, int] | None:
    """(rows, seed) the tables were generated with, or None when there are no source tables."""
    names = set(inspect(engine).get_table_names())
    wanted = {t.name for t in (pinterest_data, geolocation_data, user_data, source_meta)}
    if not names & wanted:
        return None
    if not wanted <= names:
        return _INCONSISTENT
    with engine.connect() as conn:
        meta = conn.execute(select(source_meta.c.rows, source_meta.c.seed)).first()
        counts = {
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (pinterest_data, geolocation_data, user_data)
        }
    if meta is None or counts != {meta.rows}:
        return _INCONSISTENT
    return (meta.rows, meta.seed)
