"""What an emulator run did, as data (``as_dict`` is JSON-safe for XCom) and as text for people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MAX_REASONS = 20


@dataclass
class RunSummary:
    """Counts are events (one post = three records) unless named per topic.

    ``accepted`` events had all three records acknowledged; ``rejected`` had a record refused as invalid
    (4xx or a per-record error, never retried); ``failed`` ran out of retries on transient faults.
    ``stopped_early`` says why the circuit breaker ended the run (the API stayed down); the events it left
    are ``not_sent``. ``duration_s`` and ``cpu_s`` (this process's CPU time) cover the sending, not a preload.
    """

    mode: str
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    failed: int = 0
    retried: int = 0
    not_sent: int = 0
    stopped_early: str | None = None
    duration_s: float = 0.0
    cpu_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    per_topic: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected_reasons: list[str] = field(default_factory=list)
    accepted_inds: set[int] | None = field(default=None, repr=False)

    @property
    def events_per_s(self) -> float:
        return self.accepted / self.duration_s if self.duration_s > 0 else 0.0

    def latency_ms(self, quantile: float) -> float:
        """Request latency (including retries) at ``quantile``, nearest-rank."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        rank = max(0, min(len(ordered) - 1, round(quantile * len(ordered) + 0.5) - 1))
        return ordered[rank]

    def count(self, topic: str, outcome: str, n: int = 1) -> None:
        counts = self.per_topic.setdefault(topic, {"accepted": 0, "rejected": 0, "failed": 0})
        counts[outcome] += n

    def note_reason(self, reason: str) -> None:
        if len(self.rejected_reasons) < MAX_REASONS and reason not in self.rejected_reasons:
            self.rejected_reasons.append(reason)

    def as_dict(self, include_inds: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "mode": self.mode,
            "sent": self.sent,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "failed": self.failed,
            "retried": self.retried,
            "not_sent": self.not_sent,
            "stopped_early": self.stopped_early,
            "events_per_s": round(self.events_per_s, 1),
            "latency_p50_ms": round(self.latency_ms(0.50), 2),
            "latency_p99_ms": round(self.latency_ms(0.99), 2),
            "duration_s": round(self.duration_s, 3),
            "cpu_s": round(self.cpu_s, 3),
            "per_topic": self.per_topic,
            "rejected_reasons": self.rejected_reasons,
        }
        if self.accepted_inds is not None:
            data["accepted_distinct_inds"] = len(self.accepted_inds)
            if include_inds:
                data["accepted_inds"] = sorted(self.accepted_inds)
        return data

    def __str__(self) -> str:
        lines = [
            f"{self.mode} run: {self.sent} events sent in {self.duration_s:.1f} s, "
            f"{self.accepted} accepted ({self.events_per_s:.0f} events/s), {self.rejected} rejected, "
            f"{self.failed} failed, {self.retried} retries, {self.not_sent} not sent",
            f"request latency p50 {self.latency_ms(0.5):.1f} ms, p99 {self.latency_ms(0.99):.1f} ms",
        ]
        lines += [f"  {topic}: {counts}" for topic, counts in sorted(self.per_topic.items())]
        lines += [f"  rejected: {reason}" for reason in self.rejected_reasons]
        if self.stopped_early:
            lines.append(f"  stopped early: {self.stopped_early}")
        return "\n".join(lines)
