# Databricks notebook source
# MAGIC %md
# MAGIC Report: the nine answers as one self-contained HTML page next to the gold tables, also shown below the cell on
# MAGIC Databricks (`displayHTML`).
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `python -m include.pinterest.spark.session --submit include/notebooks/batch_report.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_report.py ...`). All logic lives in `include.pinterest` (the page: `include.pinterest.report`).

# COMMAND ----------

# Databricks runs this file in include/notebooks/ of the job's Git checkout, whose root holds the `include`
# package; locally the project is installed (pyproject.toml) and this does nothing.
import os
import sys

if "DATABRICKS_RUNTIME_VERSION" in os.environ:
    sys.path.append(os.path.abspath("../.."))

from include.pinterest.notebook import show_html
from include.pinterest.spark import jobs

spark, lake = jobs.batch_notebook(
    "Report: the nine answers as one self-contained HTML page next to the gold tables.",
    globals(),
    "pinterest-batch-report",
)

# COMMAND ----------


uri, page = jobs.run_report(spark, lake)
show_html(page, globals())
print(f"report written to {uri}")
