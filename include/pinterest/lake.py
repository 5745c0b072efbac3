"""Where every layer lives in the lake: the one owner of the lake's layout.

Bronze landing (the S3 sink's keys, spec §3), silver and gold Delta tables, the stream tables, quarantines,
checkpoints and the report. A :class:`Lake` is a root plus the topic prefix; the root's scheme is the one its
reader needs (``s3a://`` or ``file:`` for Spark, ``s3://`` for delta-rs and Databricks), chosen by
``Settings.lake(reader)``, so no module builds a lake path of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from include.pinterest.settings import TABLES, Settings, check_table, stream_table_name, topic_name

GOLD_TABLES: tuple[str, ...] = (
    "category_by_country",
    "category_by_year",
    "top_poster_by_country",
    "top_country_by_followers",
    "category_by_age_group",
    "median_followers_by_age_group",
    "users_joined_by_year",
    "median_followers_by_join_year",
    "median_followers_by_join_year_and_age_group",
)


def bronze_prefix(topic_prefix: str, table: str) -> str:
    """Object-key prefix (relative to the bucket) under which the S3 sink lands one topic (spec §3)."""
    return f"topics/{topic_name(topic_prefix, table)}/"


def run_record_key(run_id: str, name: str) -> str:
    """Object key of a per-run record (e.g. the post ids the API accepted), so XCom carries a key, not the ids."""
    safe_run_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return f"_runs/{safe_run_id}/{name}.json"


@dataclass(frozen=True)
class Lake:
    """Paths of one lake: ``root`` is ``s3a://<bucket>``, ``s3://<bucket>`` or a ``file:`` folder in tests."""

    root: str
    topic_prefix: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.rstrip("/"))

    @classmethod
    def of(cls, settings: Settings, reader: str = "spark") -> Lake:
        """This deployment's lake as ``reader`` (``spark`` or ``delta-rs``) addresses it."""
        return cls(root=settings.lake_root_for(reader), topic_prefix=settings.topic_prefix)

    def bronze_dir(self, table: str) -> str:
        return f"{self.root}/{bronze_prefix(self.topic_prefix, table)}".rstrip("/")

    def bronze_glob(self, table: str) -> str:
        """Every JSON-lines object of every partition the S3 sink wrote for the table's topic."""
        return f"{self.bronze_dir(table)}/partition=*/*.json"

    def silver(self, table: str) -> str:
        check_table(table)
        return f"{self.root}/silver/{table}"

    @property
    def quarantine(self) -> str:
        return f"{self.root}/silver/_quarantine"

    def gold(self, name: str) -> str:
        if name not in GOLD_TABLES:
            raise ValueError(f"gold table must be one of {', '.join(GOLD_TABLES)}, got {name!r}")
        return f"{self.root}/gold/{name}"

    @property
    def report(self) -> str:
        return f"{self.root}/gold/report.html"

    def checkpoint(self, table: str) -> str:
        """The batch job's incremental bronze reader keeps its position here."""
        check_table(table)
        return f"{self.root}/_checkpoints/batch/{table}"

    def stream_table(self, table: str) -> str:
        """The Delta table the streaming job writes for one Kinesis stream."""
        return f"{self.root}/stream/{stream_table_name(self.topic_prefix, table)}"

    def stream_checkpoint(self, table: str) -> str:
        check_table(table)
        return f"{self.root}/_checkpoints/stream/{table}"

    @property
    def stream_quarantine(self) -> str:
        return f"{self.root}/stream/{self.topic_prefix}_quarantine"

    @property
    def silver_tables(self) -> dict[str, str]:
        return {table: self.silver(table) for table in TABLES}

    @property
    def stream_tables(self) -> dict[str, str]:
        return {table: self.stream_table(table) for table in TABLES}
