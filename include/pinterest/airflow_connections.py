"""The Airflow connection ids the pipeline uses: one home for the DAG, the local platform's connection catalog
and the AWS side's Secrets Manager secrets (``airflow/connections/<id>``)."""

KAFKA = "pinterest_kafka"
KAFKA_CONNECT = "pinterest_kafka_connect"  # local profile only: the Kafka Connect REST API
AWS = "pinterest_aws"
INGEST_API = "pinterest_ingest_api"
SOURCE = "pinterest_source"
DATABRICKS = "databricks_default"  # aws profile only
