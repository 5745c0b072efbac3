"""Batch Spark package: schemas, cleaning, bronze->silver, analyses, quality checks and the HTML report."""
