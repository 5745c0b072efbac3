"""Kafka Connect hook, operator, sensor and trigger against recorded REST responses."""

from __future__ import annotations

import asyncio

import pytest
import responses
from airflow.sdk.exceptions import AirflowFailException, TaskDeferred

from pinterest_provider.hooks.kafka_connect import (
    FAILED,
    PENDING,
    RUNNING,
    KafkaConnectError,
    KafkaConnectHook,
    connector_state,
)
from pinterest_provider.operators.kafka_connect import KafkaConnectEnsureConnectorOperator
from pinterest_provider.sensors.kafka_connect import KafkaConnectorRunningSensor
from pinterest_provider.triggers.kafka_connect import KafkaConnectorRunningTrigger

CONNECT_URL = "http://connect.test:8083"

RUNNING_STATUS = {
    "name": "s3-sink",
    "connector": {"state": "RUNNING", "worker_id": "w1:8083"},
    "tasks": [
        {"id": 0, "state": "RUNNING", "worker_id": "w1:8083"},
        {"id": 1, "state": "RUNNING", "worker_id": "w1:8083"},
    ],
}
TASK_FAILED_STATUS = {
    "name": "s3-sink",
    "connector": {"state": "RUNNING", "worker_id": "w1:8083"},
    "tasks": [
        {"id": 0, "state": "RUNNING", "worker_id": "w1:8083"},
        {
            "id": 1,
            "state": "FAILED",
            "worker_id": "w1:8083",
            "trace": "org.apache.kafka.connect.errors.ConnectException: NoSuchBucket",
        },
    ],
}
UNASSIGNED_STATUS = {"name": "s3-sink", "connector": {"state": "RUNNING", "worker_id": "w1"}, "tasks": []}


@pytest.mark.parametrize(
    ("status", "state", "fragment"),
    [
        (RUNNING_STATUS, RUNNING, "2 task(s) are RUNNING"),
        (
            TASK_FAILED_STATUS,
            FAILED,
            "task 1 FAILED on w1:8083: org.apache.kafka.connect.errors.ConnectException: NoSuchBucket",
        ),
        (
            {"name": "s3-sink", "connector": {"state": "FAILED", "worker_id": "w1", "trace": "boom"}, "tasks": []},
            FAILED,
            "boom",
        ),
        (UNASSIGNED_STATUS, PENDING, "not assigned yet"),
        (None, PENDING, "does not exist"),
    ],
)
def test_connector_state(status, state, fragment):
    got_state, message = connector_state(status)
    assert got_state == state
    assert fragment in message


@responses.activate
def test_hook_reads_status_and_treats_404_as_missing():
    responses.get(f"{CONNECT_URL}/connectors/s3-sink/status", json=RUNNING_STATUS)
    responses.get(f"{CONNECT_URL}/connectors/other/status", status=404, json={"error_code": 404})
    hook = KafkaConnectHook("test_connect")
    assert hook.get_connector_status("s3-sink") == RUNNING_STATUS
    assert hook.get_connector_status("other") is None


@responses.activate
def test_hook_raises_with_the_error_body():
    responses.put(
        f"{CONNECT_URL}/connectors/s3-sink/config",
        status=400,
        json={"error_code": 400, "message": "Connector configuration is invalid: s3.bucket.name"},
    )
    with pytest.raises(KafkaConnectError, match=r"400.*s3\.bucket\.name"):
        KafkaConnectHook("test_connect").put_connector_config("s3-sink", {"connector.class": "x"})


@responses.activate
@pytest.mark.parametrize(
    ("current", "expected_action", "puts"),
    [
        (None, "created", 1),
        ({"name": "s3-sink", "tasks.max": "1"}, "updated", 1),
        ({"name": "s3-sink", "tasks.max": "3"}, "unchanged", 0),
    ],
)
def test_ensure_connector_is_idempotent(current, expected_action, puts):
    if current is None:
        responses.get(f"{CONNECT_URL}/connectors/s3-sink/config", status=404, json={})
    else:
        responses.get(f"{CONNECT_URL}/connectors/s3-sink/config", json=current)
    put = responses.put(f"{CONNECT_URL}/connectors/s3-sink/config", json={"name": "s3-sink"})
    operator = KafkaConnectEnsureConnectorOperator(
        task_id="ensure", connector_name="s3-sink", config={"tasks.max": 3}, kafka_connect_conn_id="test_connect"
    )
    assert operator.execute({}) == expected_action
    assert put.call_count == puts


@responses.activate
def test_sensor_fails_at_once_with_the_trace():
    responses.get(f"{CONNECT_URL}/connectors/s3-sink/status", json=TASK_FAILED_STATUS)
    sensor = KafkaConnectorRunningSensor(
        task_id="running", connector_name="s3-sink", kafka_connect_conn_id="test_connect", timeout=60
    )
    with pytest.raises(AirflowFailException, match="NoSuchBucket"):
        sensor.poke({})


@responses.activate
def test_deferrable_sensor_defers_to_the_trigger_while_pending():
    responses.get(f"{CONNECT_URL}/connectors/s3-sink/status", json=UNASSIGNED_STATUS)
    sensor = KafkaConnectorRunningSensor(
        task_id="running",
        connector_name="s3-sink",
        kafka_connect_conn_id="test_connect",
        deferrable=True,
        timeout=120,
        poke_interval=2,
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute({})
    trigger = deferred.value.trigger
    assert isinstance(trigger, KafkaConnectorRunningTrigger)
    assert deferred.value.method_name == "execute_complete"
    assert deferred.value.timeout.total_seconds() == 120
    path, kwargs = trigger.serialize()
    assert path == "pinterest_provider.triggers.kafka_connect.KafkaConnectorRunningTrigger"
    assert kwargs == {"connector_name": "s3-sink", "kafka_connect_conn_id": "test_connect", "poll_interval": 2}


def test_execute_complete_raises_on_error_event():
    sensor = KafkaConnectorRunningSensor(task_id="running", connector_name="s3-sink", timeout=60)
    sensor.execute_complete({}, {"status": "success", "message": "ok"})
    with pytest.raises(AirflowFailException, match="task 1 FAILED"):
        sensor.execute_complete({}, {"status": "error", "message": "connector s3-sink task 1 FAILED"})


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [([None, UNASSIGNED_STATUS, RUNNING_STATUS], "success"), ([UNASSIGNED_STATUS, TASK_FAILED_STATUS], "error")],
)
def test_trigger_polls_until_running_or_failed(monkeypatch, statuses, expected):
    answers = iter(statuses)

    async def recorded_status(self, name):
        return next(answers)

    monkeypatch.setattr(
        "pinterest_provider.hooks.kafka_connect.KafkaConnectAsyncHook.get_connector_status", recorded_status
    )
    trigger = KafkaConnectorRunningTrigger("s3-sink", "test_connect", poll_interval=0.01)

    async def first_event():
        async for event in trigger.run():
            return event

    event = asyncio.run(first_event())
    assert event.payload["status"] == expected
