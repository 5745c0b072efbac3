"""Where every layer lives under the lake root (bronze landing, silver and gold Delta tables, checkpoints)."""

from __future__ import annotations

from dataclasses import dataclass

from include.pinterest.settings import TABLES, Settings

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


@dataclass(frozen=True)
class Lake:
    """Paths of one lake: ``root`` is ``s3a://<bucket>`` on the platform or a ``file://`` folder in tests."""

    root: str
    topic_prefix: str

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Lake:
        settings = settings or Settings()
        return cls(root=settings.lake, topic_prefix=settings.topic_prefix)

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", self.root.rstrip("/"))

    def topic(self, table: str) -> str:
        return Settings(topic_prefix=self.topic_prefix).topic(table)

    def bronze_dir(self, table: str) -> str:
        return f"{self.root}/topics/{self.topic(table)}"

    def bronze_glob(self, table: str) -> str:
        """Every JSON-lines object of every partition the S3 sink wrote for the table's topic."""
        return f"{self.bronze_dir(table)}/partition=*/*.json"

    def silver(self, table: str) -> str:
        if table not in TABLES:
            raise ValueError(f"table must be one of {', '.join(TABLES)}, got {table!r}")
        return f"{self.root}/silver/{table}"

    @property
    def quarantine(self) -> str:
        return f"{self.root}/silver/_quarantine"

    def gold(self, name: str) -> str:
        if name not in GOLD_TABLES:
            raise ValueError(f"gold table must be one of {', '.join(GOLD_TABLES)}, got {name!r}")
        return f"{self.root}/gold/{name}"

    def checkpoint(self, table: str) -> str:
        return f"{self.root}/_checkpoints/batch/{table}"

    @property
    def report(self) -> str:
        return f"{self.root}/gold/report.html"
