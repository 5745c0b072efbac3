"""Batch Spark package: schemas, cleaning, bronze->silver, analyses, quality checks and the jobs the notebooks run
(the report they write is rendered by ``include.pinterest.report``)."""
