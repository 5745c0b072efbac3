"""Fixtures of the ingestion tests: a small generated source and the API over in-memory fakes."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

with warnings.catch_warnings():  # starlette suggests httpx2, which is not in this stack
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from include.pinterest.ingest import IngestSettings, create_app
from include.pinterest.settings import Settings
from include.pinterest.source import write_source
from tests.pinterest.ingest.fakes import FakeKinesis, FakeProducer

API_KEY = "test-key-not-a-secret"


@pytest.fixture(scope="session")
def source_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """2,000 generated posts in a SQLite file, shared by the tests of a session."""
    path: Path = tmp_path_factory.mktemp("source") / "source.db"
    url = f"sqlite:///{path}"
    write_source(url, rows=2_000, seed=7)
    return url


@pytest.fixture
def producer() -> FakeProducer:
    return FakeProducer()


@pytest.fixture
def kinesis() -> FakeKinesis:
    return FakeKinesis(Settings().streams)


@pytest.fixture
def client(producer: FakeProducer, kinesis: FakeKinesis) -> Iterator[TestClient]:
    app = create_app(IngestSettings(api_key=API_KEY), producer=producer, kinesis=kinesis)
    with TestClient(app, headers={"x-api-key": API_KEY}) as test_client:
        yield test_client
