"""Connector configurations kept in include/connectors/, filled in with this deployment's names.

``${name}`` placeholders are substituted from :class:`Settings`; an unknown placeholder is an error, so a
typo never reaches Kafka Connect as a literal.
"""

from __future__ import annotations

import json
from pathlib import Path
from string import Template

from include.pinterest.settings import Settings

CONNECTORS_DIR = Path(__file__).resolve().parent.parent / "connectors"


def s3_sink_connector_name(settings: Settings) -> str:
    return f"{settings.topic_prefix}-s3-sink"


def load_connector_config(profile: str, settings: Settings | None = None) -> dict[str, str]:
    """The S3 sink configuration of ``profile`` (``local`` or ``aws``) as Kafka Connect expects it."""
    settings = settings or Settings()
    path = CONNECTORS_DIR / f"s3-sink.{profile}.json"
    if not path.exists():
        raise FileNotFoundError(f"no connector configuration for profile {profile!r} at {path}")
    values = {
        "prefix": settings.topic_prefix,
        "bucket": settings.bucket,
        "s3_endpoint_url": settings.s3_endpoint_url or "",
        "region": settings.aws_region,
    }
    try:
        text = Template(path.read_text()).substitute(values)
    except KeyError as error:
        raise ValueError(f"{path.name}: unknown placeholder ${{{error.args[0]}}}") from None
    return json.loads(text)
