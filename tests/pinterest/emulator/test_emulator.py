"""The emulator against a scripted HTTP server on 127.0.0.1: retries, rejections, pacing, reading."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from include.pinterest.emulator import Emulator, EmulatorConfig
from include.pinterest.emulator.__main__ import main as emulator_cli
from include.pinterest.emulator.reader import PostReader, open_source

# (method, path, parsed body, request number on that path) -> (status, headers, body)
Script = Callable[[str, str, dict, int], tuple[int, dict[str, str], dict]]


def accept_all(method: str, path: str, body: dict, _nth: int) -> tuple[int, dict[str, str], dict]:
    if method == "POST":
        return (
            200,
            {},
            {
                "offsets": [
                    {"partition": 0, "offset": i, "error_code": None, "error": None}
                    for i, _ in enumerate(body["records"])
                ]
            },
        )
    return (
        200,
        {},
        {
            "FailedRecordCount": 0,
            "Records": [{"SequenceNumber": str(i), "ShardId": "s"} for i, _ in enumerate(body["Records"])],
        },
    )


class ScriptedServer:
    """A real HTTP server in a thread, answering by script and remembering every request."""

    def __init__(self, script: Script) -> None:
        self.requests: list[tuple[str, str, dict, dict[str, str]]] = []
        self.hits: Counter[str] = Counter()
        lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with lock:
                    server.hits[self.path] += 1
                    nth = server.hits[self.path]
                    server.requests.append((self.command, self.path, body, dict(self.headers)))
                status, headers, answer = script(self.command, self.path, body, nth)
                payload = json.dumps(answer).encode()
                self.send_response(status)
                for name, value in {"content-type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_POST = do_PUT = _answer

            def log_message(self, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def config(source_url: str, target_url: str, **overrides) -> EmulatorConfig:
    defaults = dict(
        source_url=source_url,
        target_url=target_url,
        api_key="k",
        events=100,
        batch_size=50,
        concurrency=2,
        backoff_base_s=0.01,
        backoff_cap_s=0.05,
        timeout_s=5,
        track_inds=True,
    )
    return EmulatorConfig(**{**defaults, **overrides})


@pytest.fixture
def serve() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        servers.append(ScriptedServer(script).__enter__())
        return servers[-1]

    yield start
    for server in servers:
        server.__exit__()


def test_batch_mode_posts_three_topics_with_the_key(source_url, serve) -> None:
    server = serve(accept_all)
    summary = Emulator(config(source_url, server.url)).run()
    assert (summary.sent, summary.accepted, summary.rejected, summary.failed) == (100, 100, 0, 0)
    assert set(summary.per_topic) == {"pinterest.pin", "pinterest.geo", "pinterest.user"}
    method, _path, body, headers = server.requests[0]
    assert method == "POST" and headers["x-api-key"] == "k"
    assert headers["content-type"] == "application/vnd.kafka.json.v2+json"
    record = body["records"][0]
    assert record["key"] in summary.accepted_inds
    assert len(summary.accepted_inds) == summary.as_dict()["accepted_distinct_inds"]


def test_preload_reads_every_post_before_the_first_request(source_url, serve, monkeypatch) -> None:
    """The clock starts after the source is read: the source is not touched once sending has begun."""
    server = serve(accept_all)
    reads: list[int] = []
    sampled = PostReader.sampled

    def counting(self, batch_size, seed):
        for batch in sampled(self, batch_size, seed):
            reads.append(len(server.requests))
            yield batch

    monkeypatch.setattr(PostReader, "sampled", counting)
    summary = Emulator(config(source_url, server.url, events=120, preload=True)).run()
    assert (summary.sent, summary.accepted, summary.failed) == (120, 120, 0)
    assert reads == [0, 0, 0]  # three batches of 50 read, all before any request
    sent = [
        record["value"] for _, path, body, _ in server.requests if path.endswith(".pin") for record in body["records"]
    ]
    assert len(sent) == 120 and {row["index"] for row in sent} <= summary.accepted_inds


def test_transient_errors_are_retried_honouring_retry_after(source_url, serve) -> None:
    def flaky(method, path, body, nth):
        if nth == 1:
            return 503, {"Retry-After": "0.3"}, {"error_code": 50301, "message": "Kafka is unavailable"}
        if nth == 2:
            return 429, {}, {"error_code": 42901, "message": "slow down"}
        return accept_all(method, path, body, nth)

    server = serve(flaky)
    started = time.perf_counter()
    summary = Emulator(config(source_url, server.url, events=50)).run()
    assert summary.accepted == 50 and summary.failed == 0
    assert summary.retried == 6  # two per table
    assert time.perf_counter() - started >= 0.3
    assert summary.latency_ms(0.5) >= 300


def test_client_errors_are_never_retried(source_url, serve) -> None:
    server = serve(lambda *_: (400, {}, {"error_code": 40001, "message": "malformed JSON"}))
    summary = Emulator(config(source_url, server.url, events=50)).run()
    assert (summary.accepted, summary.rejected, summary.retried) == (0, 50, 0)
    assert sum(server.hits.values()) == 3
    assert summary.rejected_reasons == ["HTTP 400: malformed JSON"]


def test_per_record_errors_count_as_rejected(source_url, serve) -> None:
    def one_bad(method, path, body, nth):
        status, headers, answer = accept_all(method, path, body, nth)
        if path.endswith(".user"):
            answer["offsets"][0] = {"partition": None, "offset": None, "error_code": 42201, "error": "field 'age'"}
        return status, headers, answer

    summary = Emulator(config(source_url, serve(one_bad).url, events=50, concurrency=1, batch_size=50)).run()
    assert (summary.accepted, summary.rejected) == (49, 1)
    assert summary.per_topic["pinterest.user"] == {"accepted": 49, "rejected": 1, "failed": 0}
    assert summary.rejected_reasons == ["42201: field 'age'"]


def test_connection_errors_retry_then_fail(source_url) -> None:
    summary = Emulator(config(source_url, "http://127.0.0.1:9", events=10, max_retries=2)).run()
    assert (summary.accepted, summary.failed, summary.retried) == (0, 10, 6)
    assert "ClientConnectorError talking to the API" in summary.rejected_reasons[0]


def test_an_api_that_stays_down_trips_the_breaker_instead_of_retrying_every_batch(source_url) -> None:
    started = time.perf_counter()
    summary = Emulator(
        config(source_url, "http://127.0.0.1:9", events=5_000, batch_size=10, concurrency=2, max_retries=2)
    ).run()
    assert summary.accepted == 0 and summary.stopped_early.startswith("3 requests in a row gave up")
    assert summary.failed + summary.not_sent == 5_000 and summary.not_sent >= 4_900
    assert summary.retried <= 2 * 3 * 3  # a couple of batches' worth of retries, not 500 batches of them
    assert time.perf_counter() - started < 10
    assert summary.as_dict()["not_sent"] == summary.not_sent


def test_an_outage_shorter_than_the_retries_loses_nothing_and_counts_the_retries(source_url, serve) -> None:
    outage_until = time.monotonic() + 0.2

    def down_then_up(method, path, body, nth):
        if time.monotonic() < outage_until:
            return 503, {}, {"error_code": 50301, "message": "Kafka is unavailable"}
        return accept_all(method, path, body, nth)

    summary = Emulator(config(source_url, serve(down_then_up).url, events=100, max_retries=40)).run()
    assert (summary.accepted, summary.failed, summary.not_sent, summary.stopped_early) == (100, 0, 0, None)
    assert summary.retried > 0


def test_stream_mode_retries_only_throttled_records(source_url, serve) -> None:
    def throttle_first(method, path, body, nth):
        status, headers, answer = accept_all(method, path, body, nth)
        if nth == 1:
            answer["Records"][0] = {"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "slow"}
            answer["FailedRecordCount"] = 1
        return status, headers, answer

    server = serve(throttle_first)
    summary = Emulator(config(source_url, server.url, mode="stream", events=20, batch_size=20, concurrency=1)).run()
    assert summary.accepted == 20 and summary.retried == 3
    retried = [body for _, path, body, _ in server.requests if len(body["Records"]) == 1]
    assert len(retried) == 3
    method, path, body, _ = server.requests[0]
    assert method == "PUT" and path.startswith("/streams/streaming-pinterest-")
    first = body["Records"][0]
    assert first["PartitionKey"] == str(first["Data"].get("ind", first["Data"].get("index")))


def test_rate_is_respected(source_url, serve) -> None:
    server = serve(accept_all)
    summary = Emulator(config(source_url, server.url, events=None, duration_s=2.0, rate=200, batch_size=500)).run()
    assert 340 <= summary.sent <= 440
    assert summary.events_per_s == pytest.approx(200, rel=0.15)


def test_count_with_rate_takes_the_expected_time(source_url, serve) -> None:
    summary = Emulator(config(source_url, serve(accept_all).url, events=300, rate=300)).run()
    assert summary.sent == 300 and 0.85 <= summary.duration_s <= 1.4


def test_summary_is_json_safe(source_url, serve) -> None:
    summary = Emulator(config(source_url, serve(accept_all).url, events=20)).run()
    data = json.loads(json.dumps(summary.as_dict(include_inds=True)))
    assert data["accepted"] == 20 and len(data["accepted_inds"]) == data["accepted_distinct_inds"]
    assert "accepted" in str(summary)


def test_reader_sequential_and_sampled(source_url) -> None:
    engine = open_source(source_url)
    reader = PostReader(engine)
    assert reader.bounds() == (2000, 0, 1999)
    batches = reader.sequential(batch_size=700)
    first_pass = [post.ind for _ in range(3) for post in next(batches)]
    assert first_pass == list(range(2000))
    assert next(batches)[0].ind == 0  # starts over
    batches.close()
    post = next(reader.sampled(1, seed=3))[0]
    pin, geo, user = (json.loads(row) for row in (post.pin, post.geo, post.user))
    assert pin["index"] == geo["ind"] == user["ind"] == post.ind
    assert isinstance(geo["timestamp"], str) and "T" in geo["timestamp"]
    sample = [p.ind for p in next(reader.sampled(500, seed=3))]
    assert sample == [p.ind for p in next(reader.sampled(500, seed=3))]
    assert len(set(sample)) < 500  # with replacement
    engine.dispose()


def test_config_rejects_bad_values(source_url) -> None:
    for bad in (
        {"batch_size": 501},
        {"events": 0},
        {"mode": "both"},
        {"rate": -1},
        {"events": None, "duration_s": None},
        {"events": None, "duration_s": 5, "preload": True},
    ):
        with pytest.raises(ValueError):
            config(source_url, "http://127.0.0.1:1", **bad)
    with pytest.raises(ValueError, match="target_url"):
        config(source_url, "ftp://127.0.0.1:1")
    assert "secret-key-value" not in repr(config(source_url, "http://127.0.0.1:1", api_key="secret-key-value"))


def test_cli_reads_the_key_from_the_environment(source_url, serve, monkeypatch, capsys) -> None:
    server = serve(accept_all)
    monkeypatch.setenv("INGEST_API_KEY", "from-env")
    code = emulator_cli(
        [
            "--source-url",
            source_url,
            "--target-url",
            server.url,
            "--events",
            "30",
            "--batch-size",
            "10",
            "--sampling",
            "sequential",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["accepted"] == 30
    assert {headers["x-api-key"] for *_, headers in server.requests} == {"from-env"}
