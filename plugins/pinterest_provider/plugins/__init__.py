"""Airflow plugins of the pipeline (as providers keep theirs in ``plugins/``): the pipeline page in the UI."""
