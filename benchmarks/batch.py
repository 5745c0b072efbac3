"""Batch benchmark: bronze JSON lines -> silver -> gold on local Spark, with DuckDB as the reference.

For each size it generates bronze files the way the S3 sink lands them (several partitions, several files per
partition, ~5% re-sent posts, the placeholders and mixed datetime forms of spec §2), runs the batch jobs
(bronze->silver, quality checks, the nine gold tables) on a file:// lake, samples the peak RSS of this process
and all its children (the Spark JVM and its Python workers), then computes the nine analyses with DuckDB over
the same files and checks that both engines agree.

    .venv/bin/python benchmarks/batch.py                      # 10k, 100k and 1M posts
    .venv/bin/python benchmarks/batch.py --sizes 10000        # a quick run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

from benchmarks.machine import load_average, machine
from include.pinterest.lake import GOLD_TABLES, Lake
from include.pinterest.spark import jobs
from include.pinterest.spark.session import build_spark
from include.pinterest.tables import CATEGORIES

REPO = Path(__file__).resolve().parent.parent

TOPIC_PREFIX = "bench"
PARTITIONS = 3
RECORDS_PER_FILE = 25_000
MIN_FILES_PER_PARTITION = 4
DUPLICATE_SHARE = 0.05
WARM_UP_POSTS = 2_000
COUNTRIES = (
    "France",
    "Chile",
    "India",
    "Japan",
    "Kenya",
    "Brazil",
    "Canada",
    "Norway",
    "Peru",
    "Viet Nam",
    "Antarctica (the territory South of 60 deg S)",
    "Saint Vincent and the Grenadines",
    "Côte d'Ivoire",
)
FIRST_NAMES = ("Ann", "Bo", "Chloé", "Dmitri", "Eve", "Fatima", "Günter", "Hana", "Ivan", "Jia")
LAST_NAMES = ("Lee", "Smith", "Ünal", "Okafor", "Nguyen", "García", "Kowalski", "Sato", "Brown", "Müller")
MEDIA = ("image", "video", "multi-video(story page format)")
TITLE_PLACEHOLDER = "No Title Data Available"
DESCRIPTION_PLACEHOLDERS = ("No description available Story format", "No description available")
TAGS_PLACEHOLDER = "N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"


# ---------------------------------------------------------------------------------------------------------
# Deterministic bronze generator: one row per ind as a function of (seed, ind), so a re-sent post is identical.


def _follower_counts(rng: np.random.Generator, n: int) -> list[str]:
    kind = rng.random(n)
    k_values = rng.integers(1, 999, n)
    k_decimal = rng.random(n) < 0.1
    digits = rng.integers(0, 999, n)
    millions = rng.integers(1, 9, n)
    out = []
    for i in range(n):
        if kind[i] < 0.74:
            out.append(f"{k_values[i]}.5k" if k_decimal[i] else f"{k_values[i]}k")
        elif kind[i] < 0.91:
            out.append(str(digits[i]))
        elif kind[i] < 0.985:
            out.append(f"{millions[i]}M")
        else:
            out.append("User Info Error")
    return out


def _timestamps(rng: np.random.Generator, n: int, first_year: int, last_year: int) -> list[str]:
    start = np.datetime64(f"{first_year}-01-01T00:00:00")
    span = int((np.datetime64(f"{last_year + 1}-01-01T00:00:00") - start) / np.timedelta64(1, "s"))
    stamps = np.datetime_as_string(start + rng.integers(0, span, n).astype("timedelta64[s]"), unit="s")
    iso = rng.random(n) < 0.5
    return [s if iso[i] else s.replace("T", " ") for i, s in enumerate(stamps)]


def generate_rows(n: int, seed: int = 7) -> dict[str, list[str]]:
    """JSON lines of ``n`` distinct posts per table, index = ind."""
    rng = np.random.default_rng(seed)
    category = rng.integers(0, len(CATEGORIES), n)
    failed = rng.random(n) < 0.015
    title_ph, desc_ph, poster_ph, tags_ph, img_ph = (rng.random(n) < 0.01 for _ in range(5))
    desc_kind = rng.integers(0, 2, n)
    media = rng.integers(0, len(MEDIA), n)
    followers = _follower_counts(rng, n)
    poster = rng.integers(0, max(10, n // 20), n)
    pin = []
    for i in range(n):
        cat = CATEGORIES[category[i]]
        f = bool(failed[i])
        row = {
            "index": i,
            "unique_id": f"{seed:04x}{i:028x}",
            "title": TITLE_PLACEHOLDER if f or title_ph[i] else f"Idea {i} for {cat} ✨",
            "description": DESCRIPTION_PLACEHOLDERS[desc_kind[i]] if f or desc_ph[i] else f"All about {cat} #{i}",
            "poster_name": "User Info Error" if f or poster_ph[i] else f"board-{poster[i]}",
            "follower_count": "User Info Error" if f else followers[i],
            "tag_list": TAGS_PLACEHOLDER if f or tags_ph[i] else f"{cat},ideas,tag{i % 97}",
            "is_image_or_video": MEDIA[media[i]],
            "image_src": "Image src error." if f or img_ph[i] else f"https://i.example.com/{i}.jpg",
            "downloaded": 0 if f else 1,
            "save_location": f"Local save in /data/{cat}",
            "category": cat,
        }
        pin.append(json.dumps(row, ensure_ascii=False))
    lat = rng.uniform(-90, 90, n).round(6)
    lon = rng.uniform(-180, 180, n).round(6)
    country = rng.integers(0, len(COUNTRIES), n)
    geo_ts = _timestamps(rng, n, 2017, 2022)
    geo = [
        json.dumps(
            {
                "ind": i,
                "timestamp": geo_ts[i],
                "latitude": lat[i],
                "longitude": lon[i],
                "country": COUNTRIES[country[i]],
            },
            ensure_ascii=False,
        )
        for i in range(n)
    ]
    age = np.where(rng.random(n) < 0.03, rng.integers(13, 18, n), rng.integers(18, 76, n))
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    joined = _timestamps(rng, n, 2015, 2017)
    user = [
        json.dumps(
            {
                "ind": i,
                "first_name": FIRST_NAMES[first[i]],
                "last_name": LAST_NAMES[last[i]],
                "age": int(age[i]),
                "date_joined": joined[i],
            },
            ensure_ascii=False,
        )
        for i in range(n)
    ]
    return {"pin": pin, "geo": geo, "user": user}


def write_bronze(folder: Path, posts: int, seed: int = 7) -> int:
    """Land ``posts`` posts plus ~5% re-sends as S3-sink objects; returns the number of files written."""
    rows = generate_rows(posts, seed)
    rng = np.random.default_rng(seed + 1)
    sends = np.concatenate([np.arange(posts), rng.integers(0, posts, int(posts * DUPLICATE_SHARE))])
    rng.shuffle(sends)
    files = 0
    for table, lines in rows.items():
        topic = f"{TOPIC_PREFIX}.{table}"
        for p in range(PARTITIONS):
            part = sends[p::PARTITIONS]
            target = folder / "topics" / topic / f"partition={p}"
            target.mkdir(parents=True, exist_ok=True)
            per_file = min(RECORDS_PER_FILE, -(-len(part) // MIN_FILES_PER_PARTITION))
            for start in range(0, len(part), per_file):
                chunk = part[start : start + per_file]
                (target / f"{topic}+{p}+{start:010d}.json").write_text(
                    "\n".join(lines[i] for i in chunk) + "\n", encoding="utf-8"
                )
                files += 1
    return files


# ---------------------------------------------------------------------------------------------------------
# DuckDB reference: the same cleaning and analyses in SQL over the same bronze files.

DUCKDB_SQL = r"""
CREATE OR REPLACE TEMP VIEW pin AS
SELECT DISTINCT ON ("index") "index" AS ind, category,
  NULLIF(NULLIF(trim(poster_name), 'User Info Error'), '') AS poster_name,
  CASE WHEN regexp_full_match(trim(follower_count), '[0-9]{{1,9}}(\.[0-9]{{1,6}})?[kKmM]?')
       THEN round(CAST(regexp_extract(trim(follower_count), '^([0-9.]+)', 1) AS DECIMAL(18,6))
            * CASE WHEN lower(right(trim(follower_count), 1)) = 'k' THEN 1000
                   WHEN lower(right(trim(follower_count), 1)) = 'm' THEN 1000000 ELSE 1 END)::INTEGER
  END AS follower_count
FROM read_json('{root}/topics/{prefix}.pin/partition=*/*.json', format='newline_delimited',
  columns={{"index": 'INTEGER', "poster_name": 'VARCHAR', "follower_count": 'VARCHAR', "category": 'VARCHAR'}})
WHERE "index" IS NOT NULL ORDER BY "index";

CREATE OR REPLACE TEMP VIEW geo AS
SELECT DISTINCT ON (ind) ind, NULLIF(trim(country), '') AS country,
  coalesce(try_strptime(timestamp, '%Y-%m-%dT%H:%M:%S'), try_strptime(timestamp, '%Y-%m-%d %H:%M:%S')) AS ts
FROM read_json('{root}/topics/{prefix}.geo/partition=*/*.json', format='newline_delimited',
  columns={{"ind": 'INTEGER', "timestamp": 'VARCHAR', "country": 'VARCHAR'}})
WHERE ind IS NOT NULL ORDER BY ind;

CREATE OR REPLACE TEMP VIEW usr AS
SELECT DISTINCT ON (ind) ind, age,
  coalesce(try_strptime(date_joined, '%Y-%m-%dT%H:%M:%S'), try_strptime(date_joined, '%Y-%m-%d %H:%M:%S')) AS joined,
  CASE WHEN age BETWEEN 18 AND 24 THEN '18-24' WHEN age BETWEEN 25 AND 35 THEN '25-35'
       WHEN age BETWEEN 36 AND 50 THEN '36-50' WHEN age > 50 THEN '+50' END AS age_group
FROM read_json('{root}/topics/{prefix}.user/partition=*/*.json', format='newline_delimited',
  columns={{"ind": 'INTEGER', "age": 'INTEGER', "date_joined": 'VARCHAR'}})
WHERE ind IS NOT NULL ORDER BY ind;
"""

TOP_ONE = """
    SELECT {group}, {value}, {measure} FROM ({inner})
    QUALIFY row_number() OVER (PARTITION BY {group} ORDER BY {measure} DESC, {value}) = 1"""

DUCKDB_ANALYSES = {
    "category_by_country": TOP_ONE.format(
        group="country",
        value="category",
        measure="category_count",
        inner="SELECT country, category, count(*) AS category_count FROM pin JOIN geo USING (ind) "
        "WHERE country IS NOT NULL AND category IS NOT NULL GROUP BY country, category",
    ),
    "category_by_year": TOP_ONE.format(
        group="post_year",
        value="category",
        measure="category_count",
        inner="SELECT year(ts) AS post_year, category, count(*) AS category_count FROM pin JOIN geo USING (ind) "
        "WHERE year(ts) BETWEEN 2018 AND 2022 AND category IS NOT NULL GROUP BY year(ts), category",
    ),
    "top_poster_by_country": TOP_ONE.format(
        group="country",
        value="poster_name",
        measure="follower_count",
        inner="SELECT country, poster_name, max(follower_count) AS follower_count FROM pin JOIN geo USING (ind) "
        "WHERE country IS NOT NULL AND poster_name IS NOT NULL AND follower_count IS NOT NULL "
        "GROUP BY country, poster_name",
    ),
    "top_country_by_followers": """
        SELECT country, max(follower_count) AS follower_count FROM pin JOIN geo USING (ind)
        WHERE country IS NOT NULL AND poster_name IS NOT NULL AND follower_count IS NOT NULL GROUP BY country
        ORDER BY follower_count DESC, country LIMIT 1""",
    "category_by_age_group": TOP_ONE.format(
        group="age_group",
        value="category",
        measure="category_count",
        inner="SELECT age_group, category, count(*) AS category_count FROM pin JOIN usr USING (ind) "
        "WHERE age_group IS NOT NULL AND category IS NOT NULL GROUP BY age_group, category",
    ),
    "median_followers_by_age_group": """
        SELECT age_group, median(follower_count)::DOUBLE AS median_follower_count FROM pin JOIN usr USING (ind)
        WHERE age_group IS NOT NULL AND follower_count IS NOT NULL GROUP BY ALL""",
    "users_joined_by_year": """
        SELECT year(joined) AS post_year, count(*) AS number_users_joined FROM usr
        WHERE year(joined) BETWEEN 2015 AND 2020 GROUP BY ALL""",
    "median_followers_by_join_year": """
        SELECT year(joined) AS post_year, median(follower_count)::DOUBLE AS median_follower_count
        FROM pin JOIN usr USING (ind)
        WHERE year(joined) BETWEEN 2015 AND 2020 AND follower_count IS NOT NULL GROUP BY ALL""",
    "median_followers_by_join_year_and_age_group": """
        SELECT age_group, year(joined) AS post_year, median(follower_count)::DOUBLE AS median_follower_count
        FROM pin JOIN usr USING (ind)
        WHERE year(joined) BETWEEN 2015 AND 2020 AND age_group IS NOT NULL AND follower_count IS NOT NULL
        GROUP BY ALL""",
}


def duckdb_analyses(folder: Path) -> dict[str, list[tuple]]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads = 2")
    con.execute(DUCKDB_SQL.format(root=folder.as_posix(), prefix=TOPIC_PREFIX))
    return {name: sorted(tuple(r) for r in con.execute(sql).fetchall()) for name, sql in DUCKDB_ANALYSES.items()}


# ---------------------------------------------------------------------------------------------------------
# Measurement


class PeakRss:
    """Samples the RSS of this process and all its descendants (the Spark JVM and Python workers)."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        me = psutil.Process()
        total = 0
        for proc in [me, *me.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


def _gold_rows(spark, lake: Lake) -> dict[str, list[tuple]]:
    return {
        name: sorted(tuple(r) for r in spark.read.format("delta").load(lake.gold(name)).collect())
        for name in GOLD_TABLES
    }


def _same(a: list[tuple], b: list[tuple]) -> bool:
    return len(a) == len(b) and all(
        len(x) == len(y)
        and all((abs(u - v) < 1e-6) if isinstance(u, float) else u == v for u, v in zip(x, y, strict=True))
        for x, y in zip(a, b, strict=True)
    )


def run_size(spark, posts: int, workdir: Path) -> dict:
    folder = workdir / f"lake-{posts}"
    t0 = time.perf_counter()
    # Generate in a separate process so the generator's memory does not count in the pipeline's peak RSS.
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        files = pool.apply(write_bronze, (folder, posts))
    generate_s = time.perf_counter() - t0
    bronze_mb = sum(f.stat().st_size for f in folder.rglob("*.json")) / 2**20
    lake = Lake(root=folder.as_uri(), topic_prefix=TOPIC_PREFIX)
    with PeakRss() as rss:
        t0 = time.perf_counter()
        runs = jobs.run_clean(spark, lake)
        clean_s = time.perf_counter() - t0
        jobs.run_analyse(spark, lake)
        wall_s = time.perf_counter() - t0
    gold = _gold_rows(spark, lake)
    t0 = time.perf_counter()
    reference = duckdb_analyses(folder)
    duckdb_s = time.perf_counter() - t0
    mismatches = [name for name in GOLD_TABLES if not _same(gold[name], reference[name])]
    shutil.rmtree(folder)
    result = {
        "posts": posts,
        "bronze_records": sum(r.input_rows for r in runs.values()),
        "bronze_files": files,
        "bronze_mb": round(bronze_mb, 1),
        "generate_s": round(generate_s, 1),
        "clean_s": round(clean_s, 1),
        "wall_s": round(wall_s, 1),
        "peak_rss_mb": round(rss.peak / 2**20),
        "duckdb_wall_s": round(duckdb_s, 2),
        "ratio": round(wall_s / duckdb_s, 1),
        "matches_duckdb": not mismatches,
        "mismatched_tables": mismatches,
    }
    print(json.dumps(result), flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Batch bronze->silver->gold benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--output", type=Path, default=REPO / "benchmarks" / "results" / "batch.json")
    parser.add_argument("--workdir", type=Path, default=None, help="where to write bronze (default: a tmp dir)")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="batch-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    spark = build_spark("batch-benchmark", {"spark.sql.shuffle.partitions": "4"})
    spark.sparkContext.setLogLevel("ERROR")
    startup_s = time.perf_counter() - t0
    try:
        # An untimed small run first: class loading and JIT warm-up would otherwise be charged to the first size.
        warm_up_s = run_size(spark, WARM_UP_POSTS, workdir)["wall_s"]
        sizes = [run_size(spark, posts, workdir) for posts in sorted(args.sizes)]
    finally:
        spark.stop()
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    report = {
        "machine": {**machine(), "load_average_at_end": load_average()},
        "engine": {"spark": spark.version, "delta": "4.4.0", "driver_memory": "2g", "shuffle_partitions": 4},
        "spark_startup_s": round(startup_s, 1),
        "warm_up": {"posts": WARM_UP_POSTS, "wall_s": warm_up_s},
        "notes": "wall_s = bronze->silver (incl. quarantine and merge) + quality checks + nine gold tables on a "
        "file:// lake, excluding data generation and Spark start-up; duckdb_wall_s = the same cleaning and "
        "analyses in DuckDB SQL over the same bronze files; ratio = wall_s / duckdb_wall_s; peak_rss_mb samples "
        "the Python driver, the Spark JVM and its Python workers every 0.2 s.",
        "sizes": sizes,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
