"""The ingestion API's contract (spec §3), over in-memory Kafka and Kinesis fakes."""

from __future__ import annotations

import json
import logging

import orjson
import pytest
from starlette.testclient import TestClient

from include.pinterest.ingest import ConfigError, IngestSettings, create_app
from include.pinterest.ingest.logs import access_log
from tests.pinterest.conftest import API_KEY
from tests.pinterest.ingest.fakes import FakeKinesis, FakeProducer
from tests.pinterest.ingest.test_records import GEO, PIN, USER

KAFKA = {"content-type": "application/vnd.kafka.json.v2+json"}
JSON = {"content-type": "application/json"}


def produce(client: TestClient, topic: str, records: list, headers: dict | None = None):
    return client.post(f"/topics/{topic}", content=orjson.dumps({"records": records}), headers=headers or KAFKA)


def test_produce_answers_offsets_in_order(client: TestClient, producer: FakeProducer) -> None:
    response = produce(client, "pinterest.geo", [{"value": GEO, "key": 7}, {"value": {**GEO, "ind": 8}}])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.kafka.v2+json"
    body = response.json()
    assert body["key_schema_id"] is None and body["value_schema_id"] is None
    assert body["offsets"] == [
        {"partition": 0, "offset": 0, "error_code": None, "error": None},
        {"partition": 0, "offset": 1, "error_code": None, "error": None},
    ]
    first, second = producer.on("pinterest.geo")
    assert first.key == b"7" and second.key is None
    assert orjson.loads(first.value) == GEO  # the row as sent: cleaning happens downstream


@pytest.mark.parametrize(("topic", "row"), [("pinterest.pin", PIN), ("pinterest.user", USER)])
def test_plain_json_content_type_is_accepted(client: TestClient, topic: str, row: dict) -> None:
    response = produce(client, topic, [{"value": row}], headers={"content-type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert response.json()["offsets"][0]["error_code"] is None


def test_invalid_records_get_42201_and_go_to_the_dead_letter_topic(client: TestClient, producer: FakeProducer) -> None:
    bad_age = {**USER, "age": "old"}
    response = produce(client, "pinterest.user", [{"value": USER}, {"value": bad_age}, {"key": 1}, 5])
    offsets = response.json()["offsets"]
    assert response.status_code == 200
    assert offsets[0]["error_code"] is None
    assert [o["error_code"] for o in offsets[1:]] == [42201, 42201, 42201]
    assert "field 'age'" in offsets[1]["error"]
    assert offsets[2]["error"] == "field 'value': is required"
    assert len(producer.on("pinterest.user")) == 1
    dead = [orjson.loads(m.value) for m in producer.on("pinterest.dlq")]
    assert [d["source"] for d in dead] == ["pinterest.user"] * 3
    assert dead[0]["payload"] == {"value": bad_age} and "field 'age'" in dead[0]["reason"]


def test_unknown_topic_is_404(client: TestClient) -> None:
    response = produce(client, "pinterest.other", [{"value": GEO}])
    assert response.status_code == 404
    assert response.json()["error_code"] == 40401


@pytest.mark.parametrize("content_type", ["text/plain", "application/vnd.kafka.avro.v2+json", None])
def test_wrong_content_type_is_415(client: TestClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = client.post("/topics/pinterest.geo", content=b'{"records": []}', headers=headers)
    assert response.status_code == 415
    assert response.json()["error_code"] == 41501


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/topics/pinterest.geo", content=b'{"records": [', headers=KAFKA)
    assert response.status_code == 400
    assert response.json()["error_code"] == 40001


@pytest.mark.parametrize("body", [[], {"records": {}}, {"records": []}, {"records": [], "extra": 1}, {"value": GEO}])
def test_wrong_shape_is_422(client: TestClient, body: object) -> None:
    response = client.post("/topics/pinterest.geo", content=orjson.dumps(body), headers=KAFKA)
    assert response.status_code == 422
    assert response.json()["error_code"] == 42202


def test_too_many_records_is_413(client: TestClient) -> None:
    response = produce(client, "pinterest.geo", [{"value": GEO}] * 501)
    assert response.status_code == 413
    assert response.json()["error_code"] == 41302


def test_too_large_body_is_413(client: TestClient) -> None:
    big = {**GEO, "country": "x" * (1024 * 1024)}
    response = produce(client, "pinterest.geo", [{"value": big}])
    assert response.status_code == 413
    assert response.json()["error_code"] == 41301


def test_too_large_chunked_body_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"records": ['
        for _ in range(1200):
            yield orjson.dumps({"value": {**GEO, "country": "y" * 1000}}) + b","
        yield b"]}"

    response = client.post("/topics/pinterest.geo", content=chunks(), headers=KAFKA)
    assert response.status_code == 413


@pytest.mark.parametrize("fault", ["down", "queue_full", "timeouts"])
def test_broker_faults_are_503_with_retry_after(client: TestClient, producer: FakeProducer, fault: str) -> None:
    setattr(producer, fault, True)
    response = produce(client, "pinterest.geo", [{"value": GEO}])
    assert response.status_code == 503
    assert response.headers["retry-after"] == "1"
    assert response.json()["error_code"] == 50301


def test_missing_key_is_401_and_wrong_key_403(producer: FakeProducer, kinesis: FakeKinesis) -> None:
    app = create_app(IngestSettings(api_key=API_KEY), producer=producer, kinesis=kinesis)
    with TestClient(app) as anonymous:
        assert produce(anonymous, "pinterest.geo", [{"value": GEO}]).json()["error_code"] == 40101
        assert anonymous.get("/streams").status_code == 401
        wrong = produce(anonymous, "pinterest.geo", [{"value": GEO}], headers=KAFKA | {"x-api-key": "nope"})
        assert (wrong.status_code, wrong.json()["error_code"]) == (403, 40301)
        assert anonymous.get("/health").status_code == 200  # health needs no key
    assert producer.messages == []


def test_auth_is_required_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INGEST_API_KEY", raising=False)
    monkeypatch.delenv("INGEST_API_AUTH", raising=False)
    with pytest.raises(ConfigError, match="INGEST_API_KEY"):
        IngestSettings.from_env()
    monkeypatch.setenv("INGEST_API_AUTH", "maybe")
    with pytest.raises(ConfigError, match="INGEST_API_AUTH"):
        IngestSettings.from_env()
    monkeypatch.setenv("INGEST_API_AUTH", "off")
    assert not IngestSettings.from_env().auth_enabled
    monkeypatch.setenv("INGEST_API_AUTH", "on")
    monkeypatch.setenv("INGEST_API_KEY", "s3cr3t-value")
    assert "s3cr3t-value" not in repr(IngestSettings.from_env())


def test_health_reports_both_backends(client: TestClient, producer: FakeProducer, kinesis: FakeKinesis) -> None:
    assert client.get("/health").json() == {
        "status": "ok",
        "kafka": {"reachable": True},
        "kinesis": {"reachable": True},
    }
    kinesis.unreachable = True
    response = client.get("/health")
    assert response.status_code == 503 and response.json()["status"] == "degraded"


def test_unknown_route_is_confluent_shaped_404(client: TestClient) -> None:
    response = client.get("/nothing")
    assert response.status_code == 404 and response.json()["error_code"] == 40400


# ---------------------------------------------------------------- Kinesis resources


def test_stream_lifecycle(client: TestClient, kinesis: FakeKinesis) -> None:
    name = "streaming-pinterest-pin"
    assert client.delete(f"/streams/{name}").status_code == 200
    assert client.get(f"/streams/{name}").status_code == 404
    assert client.post(f"/streams/{name}", content=b'{"ShardCount": 2}', headers=JSON).status_code == 200
    assert client.post(f"/streams/{name}").json()["error_code"] == 40901
    assert client.get(f"/streams/{name}").json()["StreamDescription"]["StreamName"] == name
    assert name in client.get("/streams").json()["StreamNames"]
    assert client.post(f"/streams/{name}", content=b'{"ShardCount": 0}', headers=JSON).status_code == 422


def test_unknown_stream_is_404(client: TestClient) -> None:
    response = client.put("/streams/streaming-other-pin/records", content=b"{}", headers=JSON)
    assert (response.status_code, response.json()["error_code"]) == (404, 40402)


def test_put_record_stores_the_json_of_data(client: TestClient, kinesis: FakeKinesis) -> None:
    body = {"StreamName": "streaming-pinterest-geo", "Data": GEO, "PartitionKey": "7"}
    response = client.put("/streams/streaming-pinterest-geo/record", content=orjson.dumps(body), headers=JSON)
    assert response.status_code == 200 and response.json()["ShardId"]
    [(data, key)] = kinesis.streams["streaming-pinterest-geo"]
    assert json.loads(data) == GEO and key == "7"


def test_put_record_invalid_is_422_and_dead_lettered(
    client: TestClient, producer: FakeProducer, kinesis: FakeKinesis
) -> None:
    body = {"Data": {**GEO, "latitude": 100}, "PartitionKey": "7"}
    response = client.put("/streams/streaming-pinterest-geo/record", content=orjson.dumps(body), headers=JSON)
    assert (response.status_code, response.json()["error_code"]) == (422, 42201)
    assert "field 'latitude'" in response.json()["message"]
    assert kinesis.streams["streaming-pinterest-geo"] == []
    assert orjson.loads(producer.on("pinterest.dlq")[0].value)["source"] == "streaming-pinterest-geo"


def test_put_record_stream_name_must_match(client: TestClient) -> None:
    body = {"StreamName": "streaming-pinterest-pin", "Data": GEO, "PartitionKey": "7"}
    response = client.put("/streams/streaming-pinterest-geo/record", content=orjson.dumps(body), headers=JSON)
    assert response.status_code == 422 and "StreamName" in response.json()["message"]


def test_put_records_mixes_results_in_order(client: TestClient, producer: FakeProducer, kinesis: FakeKinesis) -> None:
    records = [
        {"Data": USER, "PartitionKey": "7"},
        {"Data": {**USER, "age": -1}, "PartitionKey": "8"},
        {"Data": USER},
        {"Data": {**USER, "ind": 9}, "PartitionKey": "9"},
    ]
    response = client.put(
        "/streams/streaming-pinterest-user/records", content=orjson.dumps({"Records": records}), headers=JSON
    )
    body = response.json()
    assert response.status_code == 200 and body["FailedRecordCount"] == 2
    assert [bool(r.get("SequenceNumber")) for r in body["Records"]] == [True, False, False, True]
    assert body["Records"][1]["ErrorCode"] == "InvalidRecord" and body["Records"][1]["error_code"] == 42201
    assert "field 'age'" in body["Records"][1]["ErrorMessage"]
    assert "PartitionKey" in body["Records"][2]["ErrorMessage"]
    assert [json.loads(d)["ind"] for d, _ in kinesis.streams["streaming-pinterest-user"]] == [7, 9]
    assert len(producer.on("pinterest.dlq")) == 2


def test_put_records_limits_and_kinesis_outage(client: TestClient, kinesis: FakeKinesis) -> None:
    url = "/streams/streaming-pinterest-user/records"
    too_many = {"Records": [{"Data": USER, "PartitionKey": "7"}] * 501}
    assert client.put(url, content=orjson.dumps(too_many), headers=JSON).status_code == 413
    assert (
        client.put(
            url, content=orjson.dumps({"Records": [{"Data": USER, "PartitionKey": "7"}]}), headers=KAFKA
        ).status_code
        == 415
    )
    kinesis.unreachable = True
    response = client.put(url, content=orjson.dumps({"Records": [{"Data": USER, "PartitionKey": "7"}]}), headers=JSON)
    assert (response.status_code, response.json()["error_code"]) == (503, 50302)
    assert response.headers["retry-after"] == "1"


def test_one_access_log_line_per_request_without_the_key(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger=access_log.name):
        produce(client, "pinterest.geo", [{"value": GEO}, {"value": GEO}])
    [record] = [r for r in caplog.records if r.name == access_log.name]
    assert record.fields["method"] == "POST" and record.fields["path"] == "/topics/pinterest.geo"
    assert record.fields["status"] == 200 and record.fields["records"] == 2
    assert record.fields["duration_ms"] >= 0
    assert API_KEY not in caplog.text


def test_405_lists_every_method_of_the_resource(client: TestClient) -> None:
    response = client.options("/streams/streaming-pinterest-pin")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, POST"
    assert response.json()["error_code"] == 40500
    assert client.patch("/topics/pinterest.pin").headers["allow"] == "POST"
