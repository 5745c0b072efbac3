# Databricks notebook source
# MAGIC %md
# MAGIC Kinesis to Delta (spec §6): one streaming query per stream (pin, geo, user), each decoded with its explicit
# MAGIC schema, cleaned like the batch path and appended, first record of each new `ind` only, to its own Delta table
# MAGIC with its own checkpoint. Databricks runs the same writer as the local driver (`StreamTableWriter`).
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`), `topic_prefix` and `region`. On Databricks they are widgets
# MAGIC and the streams are read with Databricks' own `kinesis` source through the cluster's instance profile: no
# MAGIC keys anywhere. Locally: `python include/notebooks/stream_to_delta.py --lake-root ... --topic-prefix ...`
# MAGIC reads through the package's Python Kinesis source (`KINESIS_ENDPOINT_URL`); the supervised way to run it
# MAGIC locally is `python -m include.pinterest.streaming start`. All logic lives in `include.pinterest.streaming`.

# COMMAND ----------

# Databricks runs this file in include/notebooks/ of the job's Git checkout, whose root holds the `include`
# package; locally the project is installed (pyproject.toml) and this does nothing.
import os
import sys

if "DATABRICKS_RUNTIME_VERSION" in os.environ:
    sys.path.append(os.path.abspath("../.."))

from include.pinterest.lake import Lake
from include.pinterest.notebook import notebook_parameters
from include.pinterest.settings import TABLES, Settings
from include.pinterest.streaming.driver import build_session
from include.pinterest.streaming.job import (
    COMPACT_INTERVAL_S,
    SourceConfig,
    compact_small_files,
    ensure_tables,
    start_query,
)

parameters = notebook_parameters(
    "Kinesis streams to the streaming Delta tables.", globals(), lake_root=None, topic_prefix=None, region="us-east-1"
)
settings = Settings(
    topic_prefix=parameters["topic_prefix"], lake_root=parameters["lake_root"], aws_region=parameters["region"]
)
# Databricks: the built-in source with role-based access; elsewhere: the package's Python source.
source = SourceConfig.from_settings(settings)
spark = build_session()

# COMMAND ----------

ensure_tables(spark, Lake.of(settings), list(TABLES))
queries = [start_query(spark, settings, table, source) for table in TABLES]
for query in queries:
    print(f"{query.name}: {query.id}")

# COMMAND ----------

# Keep the job alive while the queries run, compacting the tables' small files every COMPACT_INTERVAL_S as the
# local driver does (path-based tables get no predictive optimization). A failing query ends the run so the job's
# retry policy restarts it from the checkpoints (exactly once: a replayed batch inserts nothing, quarantines
# nothing again).
while not spark.streams.awaitAnyTermination(COMPACT_INTERVAL_S):
    compact_small_files(spark, Lake.of(settings), list(TABLES))
