"""Fixtures for the memory adapter tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from eventbus._memory import MemoryAdapter


@pytest.fixture
def broker_name() -> str:
    """A broker name no other test uses."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def adapter() -> AsyncIterator[MemoryAdapter]:
    """A connected adapter on a private broker, closed after the test."""
    adapter = MemoryAdapter()
    await adapter.connect()
    yield adapter
    await adapter.close()
