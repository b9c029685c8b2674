"""Fixtures of the Kafka adapter tests: one real Kafka broker (KRaft) per test session."""

from __future__ import annotations

import pytest
from kafka_launcher import KafkaServer, KafkaUnavailable, shared_server

from eventbus.testing import unavailable


@pytest.fixture(scope="session")
def kafka_server(tmp_path_factory: pytest.TempPathFactory) -> KafkaServer:
    """A single-node Kafka 4.x broker on free ports with a temporary log directory, one per test
    process (the interop suite's Kafka rows use the same one; ``EVENTBUS_KAFKA_BOOTSTRAP=
    host:port`` while developing: a broker already running)."""
    try:
        return shared_server(lambda: tmp_path_factory.mktemp("kafka"))
    except KafkaUnavailable as exc:
        unavailable(str(exc))  # fails under CI, skips elsewhere
        raise
