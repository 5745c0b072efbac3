# Databricks notebook source
# MAGIC %md
# MAGIC Report: render the gold tables to one self-contained HTML page next to them.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `spark-submit $(python -m include.pinterest.spark.session --submit-args) include/notebooks/batch_report.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_report.py ...`). All logic lives in `include.pinterest.spark`.

# COMMAND ----------

# Databricks runs this file in include/notebooks/ of the job's Git checkout, whose root holds the `include`
# package; locally the project is installed (pyproject.toml) and this does nothing.
import os
import sys

if "DATABRICKS_RUNTIME_VERSION" in os.environ:
    sys.path.append(os.path.abspath("../.."))

from include.pinterest.spark import jobs

spark, lake = jobs.batch_notebook(
    "Report: render the gold tables to one self-contained HTML page next to them.", globals(), "pinterest-batch-report"
)

# COMMAND ----------


print(f"report written to {jobs.run_report(spark, lake)}")
