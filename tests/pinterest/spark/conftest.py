"""One local Spark session (with Delta) for the whole test session, and helpers to land bronze files."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path

import pytest

from include.pinterest.lake import Lake
from include.pinterest.settings import topic_name
from include.pinterest.spark.session import build_spark

TOPIC_PREFIX = "test"


def _stub_pandas_on_spark_if_broken() -> None:
    """pyspark 4.1's pandas-on-Spark cannot import under pandas 3 (the pinned version), yet
    ``assertDataFrameEqual`` imports it for an isinstance check whenever pandas and pyarrow are installed.
    These tests only compare Spark DataFrames, so a stand-in whose ``DataFrame`` matches nothing suffices."""
    try:
        import pyspark.pandas  # noqa: F401
    except ImportError:
        stub = types.ModuleType("pyspark.pandas")
        stub.DataFrame = type("DataFrame", (), {})
        utils = types.ModuleType("pyspark.testing.pandasutils")
        utils.PandasOnSparkTestUtils = type("PandasOnSparkTestUtils", (), {})
        sys.modules["pyspark.pandas"] = stub
        sys.modules["pyspark.testing.pandasutils"] = utils


_stub_pandas_on_spark_if_broken()


@pytest.fixture(scope="session")
def spark():
    session = build_spark(
        "pinterest-tests",
        {
            "spark.sql.shuffle.partitions": "2",
            "spark.default.parallelism": "2",
            "spark.databricks.delta.snapshotPartitions": "1",
            "spark.sql.streaming.minBatchesToRetain": "5",
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def lake_root(tmp_path_factory) -> Path:
    """A folder for the session's lakes (file:// URIs, one sub-folder per test)."""
    return tmp_path_factory.mktemp("lake")


@pytest.fixture
def lake(lake_root, request) -> Lake:
    """A fresh empty lake for one test."""
    folder = lake_root / request.node.name.replace("[", "_").replace("]", "_")
    folder.mkdir()
    return Lake(root=folder.as_uri(), topic_prefix=TOPIC_PREFIX)


def land(lake: Lake, table: str, partition: int, offset: int, records: list[dict | str]) -> Path:
    """Write one bronze object the way the S3 sink does: JSON lines at ``<topic>+<p>+<offset10>.json``."""
    topic = topic_name(lake.topic_prefix, table)
    folder = Path(lake.bronze_dir(table).removeprefix("file://")) / f"partition={partition}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{topic}+{partition}+{offset:010d}.json"
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
