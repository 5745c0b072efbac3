"""The real producer wrapper without a broker: faults surface as transient, and "no brokers" fails fast."""

from __future__ import annotations

import asyncio

import pytest

from include.pinterest.ingest.producer import BrokerUnavailable, KafkaRecordProducer, OutgoingMessage


def test_unreachable_broker_gives_transient_failures_then_fails_fast() -> None:
    async def scenario() -> None:
        producer = KafkaRecordProducer("127.0.0.1:1", delivery_timeout_ms=1500, probe_interval_s=0.2)
        try:
            deliveries = await producer.produce([OutgoingMessage("pinterest.geo", b"1", b"{}")] * 3)
            assert len(deliveries) == 3
            assert all(d.error and d.transient for d in deliveries)
            for _ in range(50):  # the error callback reports "all brokers down" soon after
                if producer._brokers_down:
                    break
                await asyncio.sleep(0.1)
            with pytest.raises(BrokerUnavailable):
                await producer.ensure_reachable()
            assert (await producer.health())["reachable"] is False
        finally:
            producer.close()

    asyncio.run(scenario())
