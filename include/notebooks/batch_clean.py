# Databricks notebook source
# MAGIC %md
# MAGIC Bronze to silver: clean the JSON lines the S3 sink landed and merge them into the silver Delta tables.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `python -m include.pinterest.spark.session --submit include/notebooks/batch_clean.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_clean.py ...`). All logic lives in `include.pinterest.spark`.

# COMMAND ----------

# Databricks runs this file in include/notebooks/ of the job's Git checkout, whose root holds the `include`
# package; locally the project is installed (pyproject.toml) and this does nothing.
import os
import sys

if "DATABRICKS_RUNTIME_VERSION" in os.environ:
    sys.path.append(os.path.abspath("../.."))

from include.pinterest.spark import jobs

spark, lake = jobs.batch_notebook(
    "Bronze to silver: clean the JSON lines the S3 sink landed and merge them into the silver Delta tables.",
    globals(),
    "pinterest-batch-clean",
)

# COMMAND ----------


runs = jobs.run_clean(spark, lake)
for table, run in runs.items():
    print(
        f"{table}: {run.batches} batches, {run.input_files} files, {run.input_rows} records, {run.quarantined_rows} quarantined"
    )
for table, df in jobs.read_silver(spark, lake).items():
    print(f"silver {table}: {df.count()} rows")
