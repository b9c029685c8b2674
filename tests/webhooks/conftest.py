"""Fixtures of the webhook tests: a real HTTP receiver (uvicorn), stores, a bus."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from webhook_receiver import Receiver

from eventbus import EventBus
from eventbus.webhooks import SqliteEndpointStore, Webhooks

LOOPBACK = ("127.0.0.0/8",)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def path() -> str:
    """A fresh receiver path per test, so scripts and records never mix."""
    return f"/hook/{uuid.uuid4().hex[:10]}"


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    return tmp_path / "webhooks.db"


@pytest.fixture
async def hooks(store_file: Path) -> AsyncIterator[Webhooks]:
    async with Webhooks(SqliteEndpointStore(store_file), allow=LOOPBACK) as manager:
        yield manager


@pytest.fixture
async def bus() -> AsyncIterator[EventBus]:
    async with EventBus(f"memory://webhooks-{uuid.uuid4().hex[:10]}") as opened:
        yield opened
