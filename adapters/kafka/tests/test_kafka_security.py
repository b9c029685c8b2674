"""SASL (PLAIN, SCRAM-SHA-256) against a broker with a SASL_PLAINTEXT listener; secrets never
appear in errors or logs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka_launcher import KafkaServer, KafkaUnavailable

from eventbus import BrokerConnectionError, Event, EventBus
from eventbus.testing import run, unavailable, wait_until

USER, PASSWORD = "alice", "alice-Secret-42"


@pytest.fixture(scope="module")
def sasl_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaServer]:
    try:
        server = KafkaServer(tmp_path_factory.mktemp("kafka-sasl"), sasl_users={USER: PASSWORD})
        server.start()
    except KafkaUnavailable as exc:
        unavailable(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_sasl_round_trip(sasl_kafka: KafkaServer, mechanism: str) -> None:
    url = sasl_kafka.sasl_url(USER, PASSWORD, mechanism)
    channel = f"sec.t{uuid.uuid4().hex[:10]}"

    async def scenario() -> list[Any]:
        got: list[Any] = []
        async with EventBus(url) as bus:

            async def handler(event: Event[Any]) -> None:
                got.append(event.data)

            await bus.subscribe(channel, handler, group="g")
            await bus.publish(Event(type=channel, source="/sec", data={"ok": mechanism}))
            await wait_until(lambda: len(got) == 1, timeout=30)
        return got

    assert run(scenario()) == [{"ok": mechanism}]


@pytest.mark.parametrize("mechanism", ["PLAIN", "SCRAM-SHA-256"])
def test_wrong_password_is_a_connection_error_without_secrets(
    sasl_kafka: KafkaServer, mechanism: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "Wrong-Pass-77"
    url = sasl_kafka.sasl_url(USER, wrong, mechanism, "connect_timeout=5")

    async def scenario() -> None:
        async with EventBus(url):
            pass

    caplog.set_level(logging.DEBUG)
    with pytest.raises(BrokerConnectionError) as info:
        run(scenario())
    shown = str(info.value) + repr(info.value) + caplog.text
    assert wrong not in shown and PASSWORD not in shown
    assert "127.0.0.1" in str(info.value)
