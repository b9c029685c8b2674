"""Failed acks, injected through the pstest wrapper (pstest itself acks whatever it is given).

With exactly-once delivery an ack is confirmed by Pub/Sub: ``ack()`` returns once it is, ack IDs
that fail transiently are sent again, and one that fails for good raises ``PubSubAckError`` (the
message was not acked and comes back). ``pstest-server -control`` makes chosen Acknowledge /
ModifyAckDeadline calls fail the way Pub/Sub does (see ``pstest-server/faults.go``).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from eventbus_pubsub import PubSubAckError, PubSubAdapter, PubSubSubscription
from eventbus_pubsub._acks import AckQueue
from pstest_launcher import PstestServer

from eventbus import Event, EventBus, Idempotency, MemoryIdempotencyStore, Middleware
from eventbus.adapter import Delivery, Message, SubscriptionSpec
from eventbus.testing import wait_until

PROJECT = "acks"
TRANSIENT = "TRANSIENT_FAILURE_UNORDERED_ACK_ID"
INVALID = "PERMANENT_FAILURE_INVALID_ACK_ID"


@pytest.fixture
def channel() -> str:
    return f"acks.t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def adapter(faults: PstestServer) -> AsyncIterator[PubSubAdapter]:
    adapter = PubSubAdapter.from_url(faults.url(PROJECT, exactly_once="true"))
    await adapter.connect()
    try:
        yield adapter
    finally:
        await adapter.close()


def topic(channel: str) -> str:
    return f"projects/{PROJECT}/topics/{channel}"


def record(server: PstestServer, channel: str, **attributes: str) -> dict[str, Any]:
    """pstest's record of the one message on ``channel`` with these attributes."""
    found = [
        m
        for m in server.messages(topic(channel))
        if all(m["attributes"].get(k) == v for k, v in attributes.items())
    ]
    assert len(found) == 1, found
    return found[0]


def hits(server: PstestServer) -> list[int]:
    return [rule["hits"] for rule in server.faults()]


class Keeper:
    """A ``deliver`` that keeps deliveries for the test to settle."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)


async def receive(adapter: PubSubAdapter, channel: str, *bodies: str) -> list[Delivery]:
    """Subscribe a group to ``channel``, publish ``bodies`` (attribute n=body), get them."""
    keeper = Keeper()
    await adapter.subscribe(SubscriptionSpec(channel, "g", ack_wait=10), keeper)
    await adapter.publish(channel, [Message({"n": body}, body.encode()) for body in bodies])
    await wait_until(lambda: len(keeper.deliveries) == len(bodies), what="the deliveries")
    return sorted(keeper.deliveries, key=lambda d: d.message.body)


def only_subscription(adapter: PubSubAdapter) -> PubSubSubscription:
    (subscription,) = adapter.subscriptions
    return subscription


# -- the adapter: what ack() returns is what Pub/Sub did ----------------------------------------


async def test_ack_returns_once_pubsub_confirmed_it_after_transient_failures(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    (delivery,) = await receive(adapter, channel, "a")
    faults.inject("Acknowledge", "INVALID_ARGUMENT", reason=TRANSIENT, times=2)
    faults.inject("Acknowledge", "UNAVAILABLE")  # a whole request failing transiently
    await delivery.ack()
    # no await since ack() returned: nothing could have been sent meanwhile
    assert record(faults, channel)["acks"] == 1
    assert hits(faults) == [2, 1]
    stats = only_subscription(adapter).ack_stats
    assert (stats.confirmed, stats.retried, stats.failed) == (1, 3, 0)


async def test_a_permanently_failed_ack_raises_and_the_message_is_not_acked(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    (delivery,) = await receive(adapter, channel, "a")
    faults.inject("Acknowledge", "INVALID_ARGUMENT", reason=INVALID)
    with pytest.raises(PubSubAckError) as info:
        await delivery.ack()
    assert info.value.reason == INVALID
    message_id = record(faults, channel)["id"]
    assert info.value.message_id == message_id
    assert message_id in str(info.value) and "not acked" in str(info.value)
    assert record(faults, channel)["acks"] == 0
    stats = only_subscription(adapter).ack_stats
    assert (stats.confirmed, stats.failed) == (0, 1)


async def test_a_failed_status_without_ack_ids_fails_every_ack_of_the_request(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    (delivery,) = await receive(adapter, channel, "a")
    faults.inject("Acknowledge", "PERMISSION_DENIED")  # not transient: not sent again
    with pytest.raises(PubSubAckError, match="PERMISSION_DENIED"):
        await delivery.ack()
    assert hits(faults) == [1]
    assert record(faults, channel)["acks"] == 0


async def test_only_the_listed_ack_ids_of_a_request_fail(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    first, second = await receive(adapter, channel, "a", "b")
    faults.inject("Acknowledge", "INVALID_ARGUMENT", reason=INVALID, attributes={"n": "a"})
    # both acks are queued before the ack task runs: one Acknowledge request
    results = await asyncio.gather(first.ack(), second.ack(), return_exceptions=True)
    assert isinstance(results[0], PubSubAckError) and results[1] is None
    assert record(faults, channel, n="a")["acks"] == 0
    assert record(faults, channel, n="b")["acks"] == 1
    stats = only_subscription(adapter).ack_stats
    assert (stats.confirmed, stats.failed) == (1, 1)


async def test_transient_failures_are_retried_only_until_the_ack_deadline(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    (delivery,) = await receive(adapter, channel, "a")
    subscription = only_subscription(adapter)
    # the subscription's deadline is at least 10 s: a queue of its own with 0.5 s of patience
    queue = AckQueue(
        adapter.clients, subscription.state.path, 5, exactly_once=True, ack_deadline=0.5
    )
    faults.inject("Acknowledge", "UNAVAILABLE", times=100)
    waiter = queue.ack(delivery.ack_id)  # type: ignore[attr-defined]
    assert waiter is not None
    async with asyncio.timeout(30):
        reason = await waiter
    assert reason is not None and "UNAVAILABLE" in reason and "still failing after 0.5 s" in reason
    assert 2 <= hits(faults)[0] < 100
    assert record(faults, channel)["acks"] == 0
    assert queue.stats.failed == 1


async def test_an_ack_still_unconfirmed_when_the_subscription_closes_raises(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    (delivery,) = await receive(adapter, channel, "a")
    faults.inject("Acknowledge", "UNAVAILABLE", times=100)
    acking = asyncio.ensure_future(delivery.ack())
    await wait_until(lambda: hits(faults)[0] >= 1, what="the first failed ack")
    await only_subscription(adapter).close()
    with pytest.raises(PubSubAckError, match="closed before Pub/Sub confirmed"):
        async with asyncio.timeout(30):
            await acking
    assert record(faults, channel)["acks"] == 0


async def test_a_nack_that_fails_transiently_is_sent_again(
    adapter: PubSubAdapter, faults: PstestServer, channel: str
) -> None:
    keeper = Keeper()
    await adapter.subscribe(SubscriptionSpec(channel, "g", ack_wait=10), keeper)
    await adapter.publish(channel, [Message({"n": "a"}, b"a")])
    await wait_until(lambda: len(keeper.deliveries) == 1)
    faults.inject("ModifyAckDeadline", "UNAVAILABLE", deadline=0, times=2)
    await keeper.deliveries[0].nack()
    # redelivered at once (a lost nack would keep it away for its 10 s ack deadline)
    await wait_until(lambda: len(keeper.deliveries) == 2, timeout=30, what="the redelivery")
    assert hits(faults) == [2]
    stats = only_subscription(adapter).ack_stats
    assert (stats.retried, stats.modacks_failed) == (2, 0)
    await keeper.deliveries[1].ack()


async def test_at_least_once_acks_are_not_confirmed_but_retried_by_the_client(
    faults: PstestServer, channel: str
) -> None:
    adapter = PubSubAdapter.from_url(faults.url(PROJECT))
    await adapter.connect()
    try:
        (delivery,) = await receive(adapter, channel, "a")
        faults.inject("Acknowledge", "UNAVAILABLE", times=2)
        await delivery.ack()  # returns at once: nothing to confirm
        await wait_until(lambda: record(faults, channel)["acks"] == 1, what="the ack")
        assert hits(faults) == [2]
    finally:
        await adapter.close()


# -- through the bus --------------------------------------------------------------------------


async def test_bus_transient_ack_failures_are_retried_and_the_events_are_not_redelivered(
    faults: PstestServer, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    handled: list[str] = []
    first_acks_seen_by_second: list[int] = []

    async def handler(event: Event[Any]) -> None:
        handled.append(event.id)
        if len(handled) == 2:  # one handler at a time: the first one's ack() has returned
            first = record(faults, channel, **{"ce-id": handled[0]})
            first_acks_seen_by_second.append(first["acks"])

    async with EventBus(faults.url(PROJECT, exactly_once="true")) as bus:
        sub = await bus.subscribe(channel, handler, group="g", ack_wait=10, max_in_flight=1)
        channel = sub.channel
        events = [Event(type=sub.pattern, source="/acks") for _ in range(2)]
        # the first ack request fails three times (whichever event is handled first)
        faults.inject("Acknowledge", "INVALID_ARGUMENT", reason=TRANSIENT, times=2)
        faults.inject("Acknowledge", "UNAVAILABLE")
        await bus.publish_many(events)
        adapter = bus.adapter
        assert isinstance(adapter, PubSubAdapter)
        (subscription,) = adapter.subscriptions
        stats = subscription.ack_stats
        await wait_until(lambda: stats.confirmed == 2, what="the confirmed acks")
        assert first_acks_seen_by_second == [1]  # ack() returned only once Pub/Sub had it
        # confirmed means pstest has them: they cannot come back
        assert [(m["deliveries"], m["acks"]) for m in faults.messages(topic(channel))] == [
            (1, 1),
            (1, 1),
        ]
        assert hits(faults) == [2, 1]
        assert (stats.retried, stats.failed) == (3, 0)
        assert sorted(handled) == sorted(e.id for e in events)
        assert sub.stats.handled == 2
    problems = [r for r in caplog.records if r.exc_info or "Pub/Sub ack" in r.getMessage()]
    assert not [r for r in problems if r.levelno >= logging.WARNING]


async def test_bus_a_permanent_ack_failure_is_reported_and_the_event_handled_again(
    faults: PstestServer, channel: str, caplog: pytest.LogCaptureFixture
) -> None:
    effects: list[str] = []
    seen: list[str] = []

    async def handler(event: Event[Any]) -> None:
        effects.append(event.id)

    class Watch(Middleware):
        async def on_consume(self, event: Event[Any], context: Any, call_next: Any) -> None:
            seen.append(event.id)
            await call_next(event, context)

    idempotency = Idempotency(MemoryIdempotencyStore())
    async with EventBus(faults.url(PROJECT, exactly_once="true")) as bus:
        sub = await bus.subscribe(
            channel, handler, group="g", ack_wait=10, middleware=[Watch(), idempotency]
        )
        channel = sub.channel
        event = Event(type=sub.pattern, source="/acks")
        faults.inject("Acknowledge", "INVALID_ARGUMENT", reason=INVALID)
        await bus.publish(event)
        adapter = bus.adapter
        assert isinstance(adapter, PubSubAdapter)
        (subscription,) = adapter.subscriptions
        stats = subscription.ack_stats
        await wait_until(lambda: stats.failed == 1, what="the failed ack")
        assert record(faults, channel)["acks"] == 0  # not settled, whatever the handler did
        # Pub/Sub delivers it again after its 10 s ack deadline; idempotency skips the handler
        await wait_until(lambda: stats.confirmed == 1, timeout=40, what="the redelivery's ack")
        assert seen == [event.id, event.id]
        assert effects == [event.id]
        assert idempotency.stats.duplicates == 1
        assert record(faults, channel) | {"attributes": None} == {
            "id": record(faults, channel)["id"],
            "topic": topic(channel),
            "attributes": None,
            "deliveries": 2,
            "acks": 1,
        }
    failures = [
        r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], PubSubAckError)
    ]
    assert len(failures) == 1
    assert INVALID in str(failures[0].exc_info[1])  # type: ignore[index]
