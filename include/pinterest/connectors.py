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


def load_msk_connect_request(settings: Settings | None = None) -> dict:
    """The MSK Connect CreateConnector body of include/aws/msk-connect/, filled from the environment.

    Names come from :class:`Settings`; deployment facts (subnets, plugin ARN, ...) from ``PINTEREST_<NAME>``
    variables set by the MWAA startup script. A missing one is named in the error.
    """
    import os

    settings = settings or Settings()
    path = CONNECTORS_DIR.parent / "aws" / "msk-connect" / "s3-sink-connector.json"
    template = Template(path.read_text())
    values = {"topic_prefix": settings.topic_prefix, "lake_bucket": settings.bucket, "region": settings.aws_region}
    names = {m.group("named") or m.group("braced") for m in template.pattern.finditer(template.template)} - {None}
    missing = sorted(
        f"PINTEREST_{n.upper()}" for n in names - values.keys() if not os.environ.get(f"PINTEREST_{n.upper()}")
    )
    if missing:
        raise ValueError(f"{path.name} needs these environment variables: {', '.join(missing)}")
    values.update({n: os.environ[f"PINTEREST_{n.upper()}"] for n in names - values.keys()})
    return json.loads(template.substitute(values))
