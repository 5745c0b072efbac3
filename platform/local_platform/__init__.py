"""The local platform: real engines (Kafka, Kafka Connect, an S3 store, a Kinesis endpoint, the ingest API,
Airflow, the streaming job) started on one machine, one process group each. Never shipped to AWS."""
