"""Provider-style Airflow components of the Pinterest pipeline (hooks talk, operators/sensors orchestrate,
triggers wait). Lives in plugins/ because MWAA's triggerer only imports from the plugins folder."""
