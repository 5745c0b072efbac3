"""The API's two surfaces: the REST Proxy produce subset (Kafka) and the Kinesis resources."""
