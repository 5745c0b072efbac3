"""The posting emulator: sends posts from the source to the ingestion API, as users posting would.

Batch mode posts to the produce API (``POST /topics/<prefix>.pin|geo|user``, REST Proxy v2 body), stream
mode to the Kinesis resources (``PUT /streams/streaming-<prefix>-*/records``). The target is any base URL
speaking those paths: the local API, an API Gateway invoke URL or a Confluent REST Proxy. Requests are
batched, run with bounded concurrency over one pooled HTTP client (aiohttp: its pool costs a few
microseconds per request where httpx's scanned every pooled connection per request, about a quarter of
the emulator's CPU at full speed), optionally paced by a token bucket,
and retried with exponential backoff and full jitter on transient faults only (5xx, 429, timeouts,
connection errors; ``Retry-After`` honoured). Any other 4xx is a rejection, counted with its reason.
With ``preload`` the run's posts are read before the clock starts, so a load test measures the target and
not this process reading the source on the same machine (about 1 KB of memory per event).
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import orjson
from tqdm import tqdm

from include.pinterest.emulator.reader import Post, PostReader, open_source
from include.pinterest.emulator.summary import RunSummary
from include.pinterest.settings import TABLES, Settings

log = logging.getLogger(__name__)

Mode = Literal["batch", "stream"]
Sampling = Literal["random", "sequential"]
PRODUCE_CONTENT_TYPE = "application/vnd.kafka.json.v2+json"
# Per-record Kinesis failures worth sending again; anything else is a rejection.
KINESIS_TRANSIENT = {"ProvisionedThroughputExceededException", "InternalFailure", "ServiceUnavailable"}


@dataclass(frozen=True)
class EmulatorConfig:
    """One run. Give ``events`` or ``duration_s`` (or both: whichever ends first)."""

    source_url: str
    target_url: str
    api_key: str | None = field(default=None, repr=False)
    mode: Mode = "batch"
    sampling: Sampling = "random"
    seed: int = 42
    events: int | None = None
    duration_s: float | None = None
    rate: float | None = None  # events/s; None is full speed
    batch_size: int = 500
    concurrency: int = 4
    max_retries: int = 8
    breaker_after: int = 3  # requests in a row that ran out of retries: the API is down, stop sending
    backoff_base_s: float = 0.2
    backoff_cap_s: float = 10.0
    timeout_s: float = 60.0
    preload: bool = False  # read all ``events`` before sending: a load test of the target, not of the source
    track_inds: bool = False
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        if self.mode not in ("batch", "stream"):
            raise ValueError(f"mode must be 'batch' or 'stream', got {self.mode!r}")
        if self.sampling not in ("random", "sequential"):
            raise ValueError(f"sampling must be 'random' or 'sequential', got {self.sampling!r}")
        if self.events is None and self.duration_s is None:
            raise ValueError("give events or duration_s (or both)")
        if self.preload and self.events is None:
            raise ValueError("preload needs events: that many posts are read before sending")
        for name in ("events", "duration_s", "rate"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be > 0, got {value}")
        if not 1 <= self.batch_size <= 500:
            raise ValueError(f"batch_size must be 1..500 (the API's per-request limit), got {self.batch_size}")
        if self.concurrency < 1 or self.max_retries < 0 or self.breaker_after < 1:
            raise ValueError("concurrency must be >= 1, max_retries >= 0 and breaker_after >= 1")
        if not self.target_url.startswith(("http://", "https://")):
            raise ValueError(f"target_url must be an http(s) URL, got {self.target_url!r}")

    @property
    def effective_batch_size(self) -> int:
        """With a rate, about ten batches a second, so pacing stays smooth."""
        if self.rate is None:
            return self.batch_size
        return max(1, min(self.batch_size, int(self.rate / 10)))


class TokenBucket:
    """Paces events to ``rate`` per second; starts empty so a run never opens with a burst."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.tokens = 0.0
        self.updated = time.monotonic()

    async def take(self, n: int) -> None:
        while True:
            now = time.monotonic()
            self.tokens = min(max(n, self.rate), self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= n:
                self.tokens -= n
                return
            await asyncio.sleep((n - self.tokens) / self.rate)


# Per-record result of one request: None when accepted, else (kind, reason), kind "rejected" or "failed".
Results = list[tuple[str, str] | None]


class Emulator:
    """Runs one ``EmulatorConfig``; ``run()`` returns the ``RunSummary``."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._jitter = random.Random()
        settings = config.settings
        base = config.target_url.rstrip("/")
        if config.mode == "batch":
            self._urls = {t: f"{base}/topics/{settings.topic(t)}" for t in TABLES}
        else:
            self._urls = {t: f"{base}/streams/{settings.stream(t)}/records" for t in TABLES}
        self._method = "PUT" if config.mode == "stream" else "POST"
        self._given_up_in_a_row = 0
        self._names = {t: settings.topic(t) if config.mode == "batch" else settings.stream(t) for t in TABLES}

    def run(self) -> RunSummary:
        return asyncio.run(self.run_async())

    async def run_async(self) -> RunSummary:
        config = self.config
        engine = open_source(config.source_url)
        reader = PostReader(engine)
        batches = (
            reader.sampled(config.effective_batch_size, config.seed)
            if config.sampling == "random"
            else reader.sequential(config.effective_batch_size)
        )
        try:
            return await self._send_all(self._preloaded(batches) if config.preload else batches)
        finally:
            batches.close()
            engine.dispose()

    async def _send_all(self, batches: Iterator[list[Post]]) -> RunSummary:
        """Send until the run ends; the summary's clock starts here (after any preload)."""
        config = self.config
        summary = RunSummary(mode=config.mode, accepted_inds=set() if config.track_inds else None)
        headers = {"x-api-key": config.api_key} if config.api_key else {}
        connector = aiohttp.TCPConnector(limit=config.concurrency * len(TABLES))
        timeout = aiohttp.ClientTimeout(total=config.timeout_s, connect=min(5.0, config.timeout_s))
        progress = tqdm(total=config.events, unit="ev", disable=not sys.stderr.isatty(), desc=config.mode)
        started, cpu_at_start = time.perf_counter(), time.process_time()
        try:
            async with aiohttp.ClientSession(headers=headers, connector=connector, timeout=timeout) as client:
                queue: asyncio.Queue[list[Post] | None] = asyncio.Queue(maxsize=config.concurrency)
                workers = [
                    asyncio.create_task(self._worker(client, queue, summary, progress))
                    for _ in range(config.concurrency)
                ]
                try:
                    await self._feed(batches, queue, summary, started)
                finally:
                    for _ in workers:
                        await queue.put(None)
                    await asyncio.gather(*workers)
        finally:
            if summary.stopped_early and config.events is not None:
                summary.not_sent = config.events - summary.sent
            summary.duration_s = time.perf_counter() - started
            summary.cpu_s = time.process_time() - cpu_at_start
            progress.close()
        return summary

    def _preloaded(self, batches: Iterator[list[Post]]) -> Iterator[list[Post]]:
        """Batches holding at least ``events`` posts, all read now."""
        loaded: list[list[Post]] = []
        count = 0
        while count < (self.config.events or 0):
            loaded.append(next(batches))
            count += len(loaded[-1])
        log.info("preloaded %d posts in %d batches", count, len(loaded))
        return iter(loaded)

    async def _feed(
        self,
        batches: Iterator[list[Post]],
        queue: asyncio.Queue[list[Post] | None],
        summary: RunSummary,
        started: float,
    ) -> None:
        """Read batches (in a thread: the driver blocks), pace them, hand them to the workers."""
        config = self.config
        bucket = TokenBucket(config.rate) if config.rate else None
        while True:
            remaining = None if config.events is None else config.events - summary.sent
            if remaining is not None and remaining <= 0:
                return
            if config.duration_s is not None and time.perf_counter() - started >= config.duration_s:
                return
            if summary.stopped_early:
                return
            batch = await asyncio.to_thread(next, batches)
            if remaining is not None:
                batch = batch[:remaining]
            if not batch:
                continue
            if bucket is not None:
                await bucket.take(len(batch))
            summary.sent += len(batch)
            await queue.put(batch)

    async def _worker(
        self,
        client: aiohttp.ClientSession,
        queue: asyncio.Queue[list[Post] | None],
        summary: RunSummary,
        progress: tqdm,
    ) -> None:
        while (batch := await queue.get()) is not None:
            if summary.stopped_early:  # handed over before the breaker opened: not sent after all
                summary.sent -= len(batch)
                continue
            outcomes = await asyncio.gather(*(self._send(client, table, batch, summary) for table in TABLES))
            self._tally(batch, dict(zip(TABLES, outcomes, strict=True)), summary)
            progress.update(len(batch))

    def _tally(self, batch: Sequence[Post], outcomes: dict[str, Results], summary: RunSummary) -> None:
        """Count per topic and per event (an event is accepted when all three of its records are)."""
        for table, outcome in outcomes.items():
            for kind, n in Counter("accepted" if result is None else result[0] for result in outcome).items():
                summary.count(self._names[table], kind, n)
        for post, results in zip(batch, zip(*outcomes.values(), strict=True), strict=True):
            if not any(results):
                summary.accepted += 1
                if summary.accepted_inds is not None:
                    summary.accepted_inds.add(post.ind)
                continue
            kinds = {r[0] for r in results if r is not None}
            if "rejected" in kinds:
                summary.rejected += 1
            else:
                summary.failed += 1
            for result in results:
                if result is not None:
                    summary.note_reason(result[1])

    async def _send(
        self, client: aiohttp.ClientSession, table: str, batch: Sequence[Post], summary: RunSummary
    ) -> Results:
        """One request for one table; transient failures are retried, partially for Kinesis."""
        rows = [getattr(post, table) for post in batch]
        results: Results = [None] * len(rows)
        pending = list(range(len(rows)))
        started = time.perf_counter()
        attempt = 0
        while True:
            body, content_type = self._body([rows[i] for i in pending], [batch[i].ind for i in pending])
            retry_after: float | None = None
            try:
                async with client.request(
                    self._method, self._urls[table], data=body, headers={"content-type": content_type}
                ) as response:
                    answer = Answer(response.status, response.headers.get("retry-after", ""), await response.read())
            except (aiohttp.ClientError, TimeoutError) as exc:  # timeouts, refused and reset connections
                problem = f"{type(exc).__name__} talking to the API"
            else:
                if answer.status == 200:
                    self._given_up_in_a_row = 0
                    pending = self._read_answers(answer.content, pending, results)
                    if not pending:
                        break
                    problem = "Kinesis throttled some records"
                elif answer.status >= 500 or answer.status == 429:
                    problem = f"HTTP {answer.status}: {answer.message}"
                    retry_after = answer.retry_after_s
                else:
                    reason = f"HTTP {answer.status}: {answer.message}"
                    for i in pending:
                        results[i] = ("rejected", reason)
                    break
            if attempt >= self.config.max_retries or summary.stopped_early:
                for i in pending:
                    results[i] = ("failed", f"gave up after {attempt} retries: {problem}")
                self._given_up_in_a_row += 1
                if self._given_up_in_a_row >= self.config.breaker_after and not summary.stopped_early:
                    summary.stopped_early = f"{self._given_up_in_a_row} requests in a row gave up ({problem})"
                break
            attempt += 1
            summary.retried += 1
            delay = self._jitter.uniform(0, min(self.config.backoff_cap_s, self.config.backoff_base_s * 2**attempt))
            await asyncio.sleep(max(delay, retry_after or 0.0))
        summary.latencies_ms.append((time.perf_counter() - started) * 1000)
        return results

    def _body(self, rows: list[bytes], inds: list[int]) -> tuple[bytes, str]:
        """The request body, each row's JSON embedded as it was encoded by the reader."""
        if self.config.mode == "batch":
            records = [{"key": ind, "value": orjson.Fragment(row)} for ind, row in zip(inds, rows, strict=True)]
            payload: dict[str, Any] = {"records": records}
            content_type = PRODUCE_CONTENT_TYPE
        else:
            entries = [
                {"Data": orjson.Fragment(row), "PartitionKey": str(ind)} for ind, row in zip(inds, rows, strict=True)
            ]
            payload = {"Records": entries}
            content_type = "application/json"
        return orjson.dumps(payload), content_type

    def _read_answers(self, content: bytes, pending: list[int], results: Results) -> list[int]:
        """Record per-record answers; return the positions to send again (Kinesis throttling only)."""
        answer = orjson.loads(content)
        entries = answer["offsets"] if self.config.mode == "batch" else answer["Records"]
        again = []
        for i, entry in zip(pending, entries, strict=True):
            if self.config.mode == "batch":
                if entry.get("error_code") is not None:
                    results[i] = ("rejected", f"{entry['error_code']}: {entry.get('error')}")
            elif entry.get("ErrorCode"):
                if entry["ErrorCode"] in KINESIS_TRANSIENT:
                    again.append(i)
                else:
                    results[i] = ("rejected", f"{entry['ErrorCode']}: {entry.get('ErrorMessage')}")
        return again


@dataclass(frozen=True, slots=True)
class Answer:
    """What the API answered to one request, read in full before the connection goes back to the pool."""

    status: int
    retry_after: str
    content: bytes

    @property
    def message(self) -> str:
        try:
            return str(orjson.loads(self.content).get("message"))
        except (orjson.JSONDecodeError, AttributeError):
            return self.content[:200].decode(errors="replace")

    @property
    def retry_after_s(self) -> float | None:
        try:
            return max(0.0, float(self.retry_after))
        except ValueError:
            return None  # an HTTP date: fall back to the backoff
