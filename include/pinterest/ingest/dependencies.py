"""What the routes get injected: the API key check and the backends the lifespan put on ``app.state``.

The injected functions are ``async def`` although they never await: FastAPI runs a plain ``def`` dependency
in its thread pool, a thread hop (and GIL hand-over) per dependency per request on the hot path.
"""

from __future__ import annotations

import hmac

from fastapi import Request

from include.pinterest.ingest.config import IngestSettings
from include.pinterest.ingest.errors import ApiError
from include.pinterest.ingest.intake import Intake
from include.pinterest.ingest.kinesis import KinesisBackend


def settings_of(request: Request) -> IngestSettings:
    return request.app.state.settings


async def intake_of(request: Request) -> Intake:
    return request.app.state.intake


async def kinesis_of(request: Request) -> KinesisBackend:
    return request.app.state.kinesis


async def require_api_key(request: Request) -> None:
    """401 without ``x-api-key``, 403 with a wrong one (compared in constant time); off when auth is off."""
    settings = settings_of(request)
    if not settings.auth_enabled:
        return
    given = request.headers.get("x-api-key")
    if not given:
        raise ApiError(401, 40101, "missing API key: send it in the x-api-key header")
    if not hmac.compare_digest(given.encode(), (settings.api_key or "").encode()):
        raise ApiError(403, 40301, "the API key in x-api-key is not valid")
