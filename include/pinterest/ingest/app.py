"""The ingestion API: local stand-in for API Gateway + the Kafka REST Proxy (spec §3).

Two routers: ``routers.rest_proxy`` (``POST /topics/{topic}``, the produce subset of Confluent REST Proxy
v2) and ``routers.kinesis`` (the ``/streams/...`` resources API Gateway exposes). Both check the API key
as a dependency and write through ``intake`` (split, dead-letter, deliver). The backends live on
``app.state``: the lifespan connects to the configured Kafka and Kinesis unless tests inject fakes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response

from include.pinterest.ingest.config import IngestSettings
from include.pinterest.ingest.errors import install_error_handlers, json_response
from include.pinterest.ingest.intake import Intake
from include.pinterest.ingest.kinesis import BotoKinesis, KinesisBackend
from include.pinterest.ingest.logs import AccessLog
from include.pinterest.ingest.producer import KafkaRecordProducer, RecordProducer
from include.pinterest.ingest.routers import kinesis as kinesis_routes
from include.pinterest.ingest.routers import rest_proxy


def create_app(
    settings: IngestSettings,
    *,
    producer: RecordProducer | None = None,
    kinesis: KinesisBackend | None = None,
) -> FastAPI:
    """Build the API; without ``producer``/``kinesis`` it connects to the configured Kafka and Kinesis."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pipeline = settings.pipeline
        owned = None
        if producer is None:  # built here, not earlier: the Kafka producer needs the running event loop
            owned = KafkaRecordProducer(pipeline.kafka_bootstrap, settings.delivery_timeout_ms)
            app.state.intake = Intake(owned, settings)
        if kinesis is None:
            app.state.kinesis = BotoKinesis(pipeline.aws_region, pipeline.kinesis_endpoint_url)
        try:
            yield
        finally:
            if owned is not None:
                owned.close()

    app = FastAPI(
        title="Pinterest ingestion API",
        openapi_url=None,  # the contract is include/openapi/ingest-api.yaml, written by hand
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    if producer is not None:
        app.state.intake = Intake(producer, settings)
    if kinesis is not None:
        app.state.kinesis = kinesis
    app.add_middleware(AccessLog)
    install_error_handlers(app)
    app.add_api_route("/health", health, methods=["GET"])
    app.include_router(rest_proxy.router)
    app.include_router(kinesis_routes.router)
    return app


async def health(request: Request) -> Response:
    """Reachability of Kafka and Kinesis; no auth, so orchestrators can probe it."""
    kafka = await request.app.state.intake.producer.health()
    kinesis_state = await request.app.state.kinesis.health()
    ok = kafka["reachable"] and kinesis_state["reachable"]
    body = {"status": "ok" if ok else "degraded", "kafka": kafka, "kinesis": kinesis_state}
    return json_response(body, 200 if ok else 503)
