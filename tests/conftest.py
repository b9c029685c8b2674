"""Shared fixtures for the core tests (broker launchers for adapter tests live here too)."""

from __future__ import annotations

import uuid

import pytest

# pytester runs inner pytest sessions: the tests of the eventbus pytest plugin use it.
pytest_plugins = ["pytester"]


@pytest.fixture
def memory_url() -> str:
    """A URL naming a fresh in-memory broker that several buses in one test can share."""
    return f"memory://test-{uuid.uuid4().hex[:12]}"
