"""Fixtures of the NATS adapter tests: one real nats-server per test session, more on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from nats_launcher import NatsServer


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A JetStream-enabled nats-server on a free port with a temporary store, for the session."""
    server = NatsServer(tmp_path_factory.mktemp("nats")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., NatsServer]]:
    """Start a private nats-server (``jetstream=``, ``config=``); stopped after the test."""
    started: list[NatsServer] = []

    def start(**options: object) -> NatsServer:
        workdir = tmp_path / f"server-{len(started)}"
        workdir.mkdir()
        server = NatsServer(workdir, **options)  # type: ignore[arg-type]
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()
