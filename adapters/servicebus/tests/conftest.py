"""Fixtures of the Service Bus adapter tests: one test broker per test session, more on demand."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sb_broker import ServiceBusTestBroker


@pytest.fixture(scope="session")
def sb_broker() -> Iterator[ServiceBusTestBroker]:
    """The shared test broker: a 1 s lock, so lock renewal and expiry are really exercised."""
    broker = ServiceBusTestBroker(lock_duration=1.0, max_delivery_count=10).start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def start_broker() -> Iterator[Callable[..., ServiceBusTestBroker]]:
    """Start a private test broker with other settings; stopped after the test."""
    started: list[ServiceBusTestBroker] = []

    def start(**options: Any) -> ServiceBusTestBroker:
        broker = ServiceBusTestBroker(**options).start()
        started.append(broker)
        return broker

    try:
        yield start
    finally:
        for broker in started:
            broker.stop()
