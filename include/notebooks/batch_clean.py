# Databricks notebook source
# MAGIC %md
# MAGIC Bronze to silver: clean the JSON lines the S3 sink landed and merge them into the silver Delta tables.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `spark-submit $(python -m include.pinterest.spark.session --submit-args) include/notebooks/batch_clean.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_clean.py ...`). All logic lives in `include.pinterest.spark`.

# COMMAND ----------

import sys
from pathlib import Path


if "__file__" in globals():
    # Run as a script from the repository: make `include` importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from include.pinterest.spark import jobs  # noqa: E402
from include.pinterest.spark.notebook import notebook_parameters  # noqa: E402
from include.pinterest.lake import Lake  # noqa: E402
from include.pinterest.spark.session import build_spark  # noqa: E402

lake_root, topic_prefix = notebook_parameters(
    "Bronze to silver: clean the JSON lines the S3 sink landed and merge them into the silver Delta tables.", globals()
)
lake = Lake(root=lake_root, topic_prefix=topic_prefix)
spark = build_spark("pinterest-batch-clean")

# COMMAND ----------


runs = jobs.run_clean(spark, lake)
for table, run in runs.items():
    print(f"{table}: {run.batches} batches, {run.input_files} files, {run.input_rows} records, {run.quarantined_rows} quarantined")
for table, df in jobs.read_silver(spark, lake).items():
    print(f"silver {table}: {df.count()} rows")
