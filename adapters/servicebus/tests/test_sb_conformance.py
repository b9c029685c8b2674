"""The Service Bus adapter passes the conformance suite through the real azure-servicebus SDK,
against the Proton-based test broker: by default (sessions for ordered subscribers only), and
with every subscription session-enabled."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from eventbus_servicebus._capabilities import CAPABILITIES
from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url

from eventbus.adapter import Capabilities
from eventbus.testing import AdapterConformance
from eventbus.testing._rpc_checks import RequestReplyChecks

#: The request-reply scenarios, run once on a broker of their own (below).
_RPC = [name for name in dir(RequestReplyChecks) if name.startswith("test_")]


@pytest.fixture(scope="module")
def rpc_broker() -> Iterator[ServiceBusTestBroker]:
    """A broker with Service Bus's own lock duration (30 s here, 60 s by default on a namespace):
    a responder's first reply attaches a sender to the reply queue, which takes the SDK about a
    second on this broker, longer than the shared broker's 1 s lock."""
    broker = ServiceBusTestBroker(lock_duration=30.0).start()
    try:
        yield broker
    finally:
        broker.stop()


class TestServiceBusConformance(AdapterConformance):
    # The test broker's lock duration (conftest: 1 s); a real namespace would take the URL's
    # lock_duration for the entities the adapter provisions.
    short_ack_wait = 1.0

    @pytest.fixture
    def bus_url(self, sb_broker: ServiceBusTestBroker) -> str:
        return sb_url(sb_broker)

    locals().update(dict.fromkeys(_RPC))  # run in TestServiceBusRequestReplyConformance


class TestServiceBusRequestReplyConformance(RequestReplyChecks):
    """Request-reply: a session-enabled reply queue, one session per requester."""

    @pytest.fixture
    def bus_url(self, rpc_broker: ServiceBusTestBroker) -> str:
        return sb_url(rpc_broker)

    @pytest.fixture
    def prefix(self) -> str:
        return f"conf.t{uuid.uuid4().hex[:10]}"

    @pytest.fixture
    def capabilities(self) -> Capabilities:
        return CAPABILITIES


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
    # Jobs ride on ordinary subscriptions: the same code path as above.
    test_jobs_succeed_retry_fail_and_submit_idempotently = None  # type: ignore[assignment]
    test_jobs_cancel_and_deadline = None  # type: ignore[assignment]
    locals().update(dict.fromkeys(_RPC))  # the request subscriptions are not session-enabled
