# Databricks notebook source
# MAGIC %md
# MAGIC Report: render the gold tables to one self-contained HTML page next to them.
# MAGIC
# MAGIC Parameters: `lake_root` (e.g. `s3a://<bucket>`) and `topic_prefix`. On Databricks they are widgets;
# MAGIC locally: `spark-submit $(python -m include.pinterest.spark.session --submit-args) include/notebooks/batch_report.py --lake-root ... --topic-prefix ...`
# MAGIC (or plain `python include/notebooks/batch_report.py ...`). All logic lives in `include.pinterest.spark`.

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
    "Report: render the gold tables to one self-contained HTML page next to them.", globals()
)
lake = Lake(root=lake_root, topic_prefix=topic_prefix)
spark = build_spark("pinterest-batch-report")

# COMMAND ----------


print(f"report written to {jobs.run_report(spark, lake)}")
