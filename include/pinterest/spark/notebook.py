"""Parameters of the batch notebooks: Databricks widgets when the runtime provides ``dbutils``,
command-line options when the same file runs locally through ``spark-submit``."""

from __future__ import annotations

import argparse
from typing import Any


def notebook_parameters(description: str, notebook_globals: dict[str, Any]) -> tuple[str, str]:
    """(lake_root, topic_prefix) from the notebook's widgets or from ``--lake-root``/``--topic-prefix``."""
    dbutils = notebook_globals.get("dbutils")
    if dbutils is None:
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--lake-root", required=True)
        parser.add_argument("--topic-prefix", required=True)
        args = parser.parse_args()
        return args.lake_root, args.topic_prefix
    dbutils.widgets.text("lake_root", "")
    dbutils.widgets.text("topic_prefix", "")
    lake_root, topic_prefix = dbutils.widgets.get("lake_root"), dbutils.widgets.get("topic_prefix")
    if not lake_root or not topic_prefix:
        raise ValueError("widgets lake_root and topic_prefix must be set (job base_parameters)")
    return lake_root, topic_prefix
