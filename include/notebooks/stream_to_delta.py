# Databricks notebook source
# MAGIC %md
# MAGIC Kinesis to Delta (spec §6): one streaming query per stream (pin, geo, user), each decoded with its explicit
# MAGIC schema, cleaned like the batch path and merged by `ind` into its own Delta table with its own checkpoint.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`), `topic_prefix` and `region`. On Databricks they are widgets
# MAGIC and the streams are read with Databricks' own `kinesis` source through the cluster's instance profile: no
# MAGIC keys anywhere. Locally: `python include/notebooks/stream_to_delta.py --lake-root ... --topic-prefix ...`
# MAGIC reads through the package's Python Kinesis source (`KINESIS_ENDPOINT_URL`); the supervised way to run it
# MAGIC locally is `python -m include.pinterest.streaming start`. All logic lives in `include.pinterest.streaming`.

# COMMAND ----------

import argparse
import sys
from pathlib import Path


def notebook_parameters() -> tuple[str, str, str]:
    """Widgets on Databricks (where `dbutils` exists), command-line options elsewhere."""
    try:
        widgets = dbutils.widgets
    except NameError:
        parser = argparse.ArgumentParser(description="Kinesis streams to the streaming Delta tables.")
        parser.add_argument("--lake-root", required=True)
        parser.add_argument("--topic-prefix", required=True)
        parser.add_argument("--region", default="us-east-1")
        args = parser.parse_args()
        return args.lake_root, args.topic_prefix, args.region
    widgets.text("lake_root", "")
    widgets.text("topic_prefix", "")
    widgets.text("region", "us-east-1")
    return widgets.get("lake_root"), widgets.get("topic_prefix"), widgets.get("region")


if "__file__" in globals():
    # Run as a script from the repository: make `include` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from include.pinterest.lake import Lake
from include.pinterest.settings import TABLES, Settings
from include.pinterest.streaming.driver import build_session
from include.pinterest.streaming.job import (
    SourceConfig,
    ensure_tables,
    start_query,
)

lake_root, topic_prefix, region = notebook_parameters()
settings = Settings(topic_prefix=topic_prefix, lake_root=lake_root, aws_region=region)
# Databricks: the built-in source with role-based access; elsewhere: the package's Python source.
source = SourceConfig.from_settings(settings)
spark = build_session()

# COMMAND ----------

ensure_tables(spark, Lake.of(settings), list(TABLES))
queries = [start_query(spark, settings, table, source) for table in TABLES]
for query in queries:
    print(f"{query.name}: {query.id}")

# COMMAND ----------

# Keep the job alive while the queries run; a failing query ends the run so the job's retry policy restarts it
# from the checkpoints (exactly once: the writes are idempotent MERGEs).
spark.streams.awaitAnyTermination()
