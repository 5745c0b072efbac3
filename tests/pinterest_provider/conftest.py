import json

import pytest


@pytest.fixture(autouse=True)
def kafka_connect_connection(monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_TEST_CONNECT",
        json.dumps({"conn_type": "http", "host": "connect.test", "port": 8083, "schema": "http"}),
    )
