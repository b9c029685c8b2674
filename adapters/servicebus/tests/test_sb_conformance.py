"""The Service Bus adapter passes the conformance suite through the real azure-servicebus SDK,
against the Proton-based test broker: by default (sessions for ordered subscribers only), and
with every subscription session-enabled."""

from __future__ import annotations

import pytest
from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url

from eventbus.testing import AdapterConformance


class TestServiceBusConformance(AdapterConformance):
    # The test broker's lock duration (conftest: 1 s); a real namespace would take the URL's
    # lock_duration for the entities the adapter provisions.
    short_ack_wait = 1.0

    @pytest.fixture
    def bus_url(self, sb_broker: ServiceBusTestBroker) -> str:
        return sb_url(sb_broker)


class TestServiceBusSessionsConformance(AdapterConformance):
    """sessions=true: every subscription is session-enabled (above, only ordered ones are).

    Only the scenarios sessions change run here (redelivery inside a session, session lock
    renewal, dead letters from a session, order); the rest is the same code path as above.
    """

    @pytest.fixture
    def bus_url(self, sb_broker: ServiceBusTestBroker) -> str:
        return sb_url(sb_broker, sessions=True, session_idle=0.3)

    test_publish_subscribe_roundtrip = None  # type: ignore[assignment]
    test_publish_many_keeps_order = None  # type: ignore[assignment]
    test_fan_out_without_group = None  # type: ignore[assignment]
    test_wildcard_subscription = None  # type: ignore[assignment]
    test_delayed_redelivery_waits = None  # type: ignore[assignment]
    test_malformed_message_is_dead_lettered_and_loop_goes_on = None  # type: ignore[assignment]
    test_close_drains_in_flight_handlers = None  # type: ignore[assignment]
    test_size_limit_is_enforced_before_sending = None  # type: ignore[assignment]
    test_no_loss_when_a_subscriber_closes = None  # type: ignore[assignment]
    # With sessions, members of a group share the work per partition key: events without one
    # share one session (to keep their order) and so go to one member at a time.
    test_group_competing_consumers = None  # type: ignore[assignment]
