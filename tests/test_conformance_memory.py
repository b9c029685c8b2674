"""The in-memory adapter passes the same conformance suite as every broker adapter."""

from __future__ import annotations

import uuid

import pytest

from eventbus.testing import AdapterConformance


class TestMemoryConformance(AdapterConformance):
    @pytest.fixture
    def bus_url(self) -> str:
        return f"memory://conformance-{uuid.uuid4().hex[:12]}"


class TestMemoryConformanceWithFaults(AdapterConformance):
    """Reordering across keys and slow deliveries must not break any guarantee."""

    @pytest.fixture
    def bus_url(self) -> str:
        return (
            f"memory://faulty-{uuid.uuid4().hex[:12]}?seed=7&reorder=0.3&slow=0.05&slow_delay=0.01"
        )


class TestBasicAdapterConformance(AdapterConformance):
    """The bus's fallbacks for a broker without native features: a local attempt table,
    sleep-then-nack, dead letters published by the bus (``eventbus.testing.BasicAdapter``).
    Request-reply runs through the bus's emulation (a reply channel per requester)."""

    emulated_request_reply = True

    @pytest.fixture
    def bus_url(self) -> str:
        return f"basic://basic-{uuid.uuid4().hex[:12]}"


class TestAtMostOnceBasicAdapterConformance(AdapterConformance):
    """A broker that never redelivers: the bus retries in process."""

    @pytest.fixture
    def bus_url(self) -> str:
        return f"basic://once-{uuid.uuid4().hex[:12]}?redeliver=false"
