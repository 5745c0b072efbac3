# Databricks notebook source
# MAGIC %md
# MAGIC Bronze to silver: clean the JSON lines the S3 sink landed and merge them into the silver Delta tables.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `spark-submit $(python -m include.pinterest.spark.session --submit-args) include/notebooks/batch_clean.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_clean.py ...`). All logic lives in `include.pinterest.spark`.

# COMMAND ----------

# Databricks runs this file in include/notebooks/ of the job's Git checkout; there the checkout's root (which holds
# the `include` package) goes on the path. Locally the project is installed (pyproject.toml): nothing to do.
import os
import sys

"DATABRICKS_RUNTIME_VERSION" in os.environ and sys.path.append(os.path.abspath("../.."))

from include.pinterest.lake import Lake
from include.pinterest.notebook import notebook_parameters
from include.pinterest.spark import jobs
from include.pinterest.spark.session import build_spark

parameters = notebook_parameters(
    "Bronze to silver: clean the JSON lines the S3 sink landed and merge them into the silver Delta tables.",
    globals(),
    lake_root=None,
    topic_prefix=None,
)
lake = Lake(root=parameters["lake_root"], topic_prefix=parameters["topic_prefix"])
spark = build_spark("pinterest-batch-clean")

# COMMAND ----------


runs = jobs.run_clean(spark, lake)
for table, run in runs.items():
    print(
        f"{table}: {run.batches} batches, {run.input_files} files, {run.input_rows} records, {run.quarantined_rows} quarantined"
    )
for table, df in jobs.read_silver(spark, lake).items():
    print(f"silver {table}: {df.count()} rows")
