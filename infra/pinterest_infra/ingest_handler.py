"""AWS Lambda entry point of the ingestion API (include.pinterest.ingest) behind API Gateway.

The same FastAPI app as on the local platform, adapted to Lambda's proxy events by Mangum; one app and one
Kafka producer per warm container (Mangum runs the app's lifespan once). On AWS the producer signs in to MSK
with IAM (SASL/OAUTHBEARER over TLS, port 9098): the token comes from the function's role through
aws-msk-iam-sasl-signer-python, refreshed by librdkafka through ``oauth_cb``.
"""

from __future__ import annotations

import os
import time
from typing import Any

from include.pinterest.ingest import producer as producer_module

_plain_config = producer_module.producer_config


def msk_iam_token(_config: str) -> tuple[str, float]:
    """librdkafka's ``oauth_cb``: a signed MSK IAM token and its expiry in seconds since the epoch."""
    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(os.environ["AWS_REGION"])
    return token, expiry_ms / 1000


def msk_iam_producer_config(bootstrap: str, delivery_timeout_ms: int) -> dict[str, Any]:
    """The API's producer settings plus MSK IAM authentication."""
    return {
        **_plain_config(bootstrap, delivery_timeout_ms),
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "OAUTHBEARER",
        "oauth_cb": msk_iam_token,
    }


def _build_handler():
    """Mangum over the app, with the producer and Kinesis client made once per container.

    Mangum runs every invocation on one event loop (set on the thread when the adapter is made) and, with
    ``lifespan="auto"``, would start and close the app's lifespan around each request: a new Kafka producer
    per request. So the producer is made here, on that loop, and handed to ``create_app``; lifespan is off.
    """
    import asyncio

    from mangum import Mangum

    from include.pinterest.ingest.app import create_app
    from include.pinterest.ingest.config import IngestSettings
    from include.pinterest.ingest.kinesis import BotoKinesis

    settings = IngestSettings.from_env()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def make_producer() -> producer_module.KafkaRecordProducer:
        # The producer module offers no parameter for client settings yet; its config function is the seam
        # (asked of the ingest API's owner), replaced only while this one producer is made.
        producer_module.producer_config = msk_iam_producer_config
        try:
            return producer_module.KafkaRecordProducer(settings.pipeline.kafka_bootstrap, settings.delivery_timeout_ms)
        finally:
            producer_module.producer_config = _plain_config

    started = time.monotonic()
    producer = loop.run_until_complete(make_producer())
    kinesis = BotoKinesis(settings.pipeline.aws_region, None)
    app = create_app(settings, producer=producer, kinesis=kinesis)
    print(f"ingest api ready in {time.monotonic() - started:.2f}s")
    return Mangum(app, lifespan="off")


handler = _build_handler() if os.environ.get("AWS_LAMBDA_FUNCTION_NAME") else None
