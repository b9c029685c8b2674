"""Fixtures of the Pub/Sub adapter tests: one pstest server per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pstest_launcher import PstestServer, PstestUnavailable


@pytest.fixture(scope="session")
def pstest() -> Iterator[PstestServer]:
    """Google's in-memory Pub/Sub fake, built with ``go build`` once and started on a free port."""
    try:
        server = PstestServer().start()
    except PstestUnavailable as exc:
        if os.environ.get("CI"):  # CI must run these tests, not skip them
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()
