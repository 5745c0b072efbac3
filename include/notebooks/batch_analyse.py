# Databricks notebook source
# MAGIC %md
# MAGIC Silver to gold: check data quality, then rewrite the nine gold tables of the analyses.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `python -m include.pinterest.spark.session --submit include/notebooks/batch_analyse.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_analyse.py ...`). All logic lives in `include.pinterest.spark`.

# COMMAND ----------

# Databricks runs this file in include/notebooks/ of the job's Git checkout, whose root holds the `include`
# package; locally the project is installed (pyproject.toml) and this does nothing.
import os
import sys

if "DATABRICKS_RUNTIME_VERSION" in os.environ:
    sys.path.append(os.path.abspath("../.."))

from include.pinterest.spark import jobs

spark, lake = jobs.batch_notebook(
    "Silver to gold: check data quality, then rewrite the nine gold tables of the analyses.",
    globals(),
    "pinterest-batch-analyse",
)

# COMMAND ----------


results, gold = jobs.run_analyse(spark, lake)
print(f"{len(results)} data-quality rules passed")
for name, df in gold.items():
    print(name)
    df.show(50, truncate=False)
