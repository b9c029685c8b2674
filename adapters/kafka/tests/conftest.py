"""Fixtures of the Kafka adapter tests: one real Kafka broker (KRaft) per test session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from kafka_launcher import KafkaServer, KafkaUnavailable

from eventbus.testing import unavailable


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    """A single-node Kafka 4.x broker on free ports with a temporary log directory (or, with
    ``EVENTBUS_KAFKA_BOOTSTRAP=host:port`` set while developing, a broker already running)."""
    running = os.environ.get("EVENTBUS_KAFKA_BOOTSTRAP")
    if running:
        yield KafkaServer.running(running)
        return
    try:
        server = KafkaServer(tmp_path_factory.mktemp("kafka")).start()
    except KafkaUnavailable as exc:
        unavailable(str(exc))  # fails under CI, skips elsewhere
    try:
        yield server
    finally:
        server.stop()
