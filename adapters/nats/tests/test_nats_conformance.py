"""The NATS adapter passes the conformance suite on a real nats-server, in both modes."""

from __future__ import annotations

import pytest
from nats_launcher import NatsServer

from eventbus.testing import AdapterConformance


class TestJetStreamConformance(AdapterConformance):
    # The consumer's ack_wait comes from the subscription: 1 s brings an unacked message back.
    short_ack_wait = 1.0

    @pytest.fixture
    def bus_url(self, nats_server: NatsServer) -> str:
        return nats_server.url()


class TestCoreConformance(AdapterConformance):
    @pytest.fixture
    def bus_url(self, nats_server: NatsServer) -> str:
        return nats_server.url("mode=core")
