"""Fixtures of the Pub/Sub adapter tests: one pstest server per test session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pstest_launcher import PstestServer, PstestUnavailable

from eventbus.testing import unavailable


@pytest.fixture(scope="session")
def pstest() -> Iterator[PstestServer]:
    """Google's in-memory Pub/Sub fake, built with ``go build`` once and started on a free port."""
    try:
        server = PstestServer().start()
    except PstestUnavailable as exc:
        unavailable(str(exc))  # fails in CI, skips elsewhere
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pstest_control() -> Iterator[PstestServer]:
    """A second pstest server, with the ack fault-injection endpoint (``inject``)."""
    try:
        server = PstestServer(control=True).start()
    except PstestUnavailable as exc:
        unavailable(str(exc))  # fails in CI, skips elsewhere
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def faults(pstest_control: PstestServer) -> Iterator[PstestServer]:
    """``pstest_control`` with no fault rule left over from another test."""
    pstest_control.clear_faults()
    try:
        yield pstest_control
    finally:
        pstest_control.clear_faults()
