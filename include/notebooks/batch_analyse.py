# Databricks notebook source
# MAGIC %md
# MAGIC Silver to gold: check data quality, then rewrite the nine gold tables of the analyses.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `spark-submit $(python -m include.pinterest.spark.session --submit-args) include/notebooks/batch_analyse.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_analyse.py ...`). All logic lives in `include.pinterest.spark`.

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
    "Silver to gold: check data quality, then rewrite the nine gold tables of the analyses.",
    globals(),
    lake_root=None,
    topic_prefix=None,
)
lake = Lake(root=parameters["lake_root"], topic_prefix=parameters["topic_prefix"])
spark = build_spark("pinterest-batch-analyse")

# COMMAND ----------


results, gold = jobs.run_analyse(spark, lake)
print(f"{len(results)} data-quality rules passed")
for name, df in gold.items():
    print(name)
    df.show(50, truncate=False)
