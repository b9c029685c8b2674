"""The Pub/Sub adapter passes the conformance suite on pstest, through google-cloud-pubsub."""

from __future__ import annotations

import pytest
from pstest_launcher import PstestServer

from eventbus.testing import AdapterConformance


class TestPubSubConformance(AdapterConformance):
    # Pub/Sub's shortest ack deadline: an unacked message comes back after about 10 s.
    short_ack_wait = 10.0

    @pytest.fixture
    def bus_url(self, pstest: PstestServer) -> str:
        return pstest.url("conformance")
