"""The adapter against pstest: provisioning, options, dead-letter policy, limits, errors."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from eventbus_pubsub import PubSubAdapter, group_subscription_id
from google.api_core import exceptions as gexc
from google.pubsub_v1 import types
from pstest_launcher import PstestServer

from eventbus import ContentMode, Event, EventBus
from eventbus.adapter import (
    AdapterError,
    BrokerConnectionError,
    ConfigurationError,
    Delivery,
    LimitExceededError,
    Message,
    PublishError,
    SubscriptionSpec,
)
from eventbus.testing import wait_until


@pytest.fixture
def prefix() -> str:
    return f"broker.t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def adapter(pstest: PstestServer) -> AsyncIterator[PubSubAdapter]:
    adapter = PubSubAdapter.from_url(pstest.url("broker"))
    await adapter.connect()
    try:
        yield adapter
    finally:
        await adapter.close()


def sub_path(adapter: PubSubAdapter, subscription_id: str) -> str:
    return f"projects/{adapter.config.project}/subscriptions/{subscription_id}"


def topic_path(adapter: PubSubAdapter, channel: str) -> str:
    return f"projects/{adapter.config.project}/topics/{channel}"


async def get_sub(adapter: PubSubAdapter, subscription_id: str) -> types.Subscription:
    return await adapter.clients.subscriber.get_subscription(
        subscription=sub_path(adapter, subscription_id)
    )


class Recorder:
    """A ``deliver`` that keeps deliveries and settles them as told."""

    def __init__(self, settle: str = "ack") -> None:
        self.deliveries: list[Delivery] = []
        self.settle = settle

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        if self.settle == "ack":
            await delivery.ack()
        elif self.settle == "nack":
            await delivery.nack()


async def test_subscribe_provisions_topic_group_and_dead_letter_subscriptions(
    adapter: PubSubAdapter, prefix: str
) -> None:
    channel, dlq = f"{prefix}.orders", f"{prefix}.orders.dlq"
    spec = SubscriptionSpec(
        channel, "billing team", dead_letter_channel=dlq, max_attempts=3, ack_wait=45
    )
    sub = await adapter.subscribe(spec, Recorder())
    await sub.close()
    created = await get_sub(adapter, group_subscription_id(channel, "billing team"))
    assert created.topic == topic_path(adapter, channel)
    assert created.ack_deadline_seconds == 45
    assert created.enable_message_ordering
    assert created.dead_letter_policy.dead_letter_topic == topic_path(adapter, dlq)
    assert created.dead_letter_policy.max_delivery_attempts == 5  # 3, raised to Pub/Sub's minimum
    kept = await get_sub(adapter, group_subscription_id(dlq, "dlq"))  # dead letters are kept
    assert kept.topic == topic_path(adapter, dlq)


async def test_a_fan_out_subscription_is_ephemeral(adapter: PubSubAdapter, prefix: str) -> None:
    sub = await adapter.subscribe(SubscriptionSpec(f"{prefix}.news"), Recorder())
    created = await adapter.clients.subscriber.get_subscription(subscription=sub.state.path)
    assert created.expiration_policy.ttl.total_seconds() == 86400
    await sub.close()
    with pytest.raises(gexc.NotFound):
        await adapter.clients.subscriber.get_subscription(subscription=sub.state.path)


async def test_provision_false_names_what_is_missing(
    adapter: PubSubAdapter, pstest: PstestServer, prefix: str
) -> None:
    channel = f"{prefix}.audit"
    strict = PubSubAdapter.from_url(pstest.url("broker", provision="false"))
    await strict.connect()
    try:
        with pytest.raises(ConfigurationError, match=rf"topic 'projects/broker/topics/{channel}'"):
            await strict.publish(channel, [Message({"a": "b"}, b"x")])
        with pytest.raises(ConfigurationError, match="does not exist and provision=False"):
            await strict.subscribe(SubscriptionSpec(channel, "g"), Recorder())
        await adapter.subscribe(SubscriptionSpec(f"{prefix}.other", "g"), Recorder())
        await adapter.publish(channel, [Message({"a": "b"}, b"x")])  # creates the topic only
        with pytest.raises(ConfigurationError) as info:
            await strict.subscribe(SubscriptionSpec(channel, "g"), Recorder())
        assert f"subscription 'projects/broker/subscriptions/{channel}~g'" in str(info.value)
        await (await adapter.subscribe(SubscriptionSpec(channel, "g"), Recorder())).close()
        got = Recorder()
        await strict.subscribe(SubscriptionSpec(channel, "g"), got)  # now both exist
        await strict.publish(channel, [Message({"a": "b"}, b"hello")])
        await wait_until(lambda: len(got.deliveries) == 1)
        assert got.deliveries[0].message.body == b"hello"
    finally:
        await strict.close()


async def test_a_group_subscription_on_another_topic_is_refused(
    adapter: PubSubAdapter, prefix: str
) -> None:
    first, second = f"{prefix}.a", f"{prefix}.b"
    await adapter.publish(first, [Message({"a": "b"}, b"x")])
    await adapter.clients.subscriber.create_subscription(
        name=sub_path(adapter, group_subscription_id(second, "g")), topic=topic_path(adapter, first)
    )
    with pytest.raises(ConfigurationError, match=f"reads topic 'projects/broker/topics/{first}'"):
        await adapter.subscribe(SubscriptionSpec(second, "g"), Recorder())


async def test_exactly_once_and_retry_backoff_options(pstest: PstestServer, prefix: str) -> None:
    url = pstest.url("broker", exactly_once="true", min_backoff=1, max_backoff=5)
    async with EventBus(url) as bus:
        got: list[str] = []

        async def handler(event: Event[Any]) -> None:
            got.append(event.id)

        sub = await bus.subscribe(f"{prefix}.once", handler, group="g")
        await bus.publish(Event(type=f"{prefix}.once", source="/t"))
        await wait_until(lambda: len(got) == 1)
        adapter = bus.adapter
        assert isinstance(adapter, PubSubAdapter)
        created = await get_sub(adapter, group_subscription_id(sub.channel, "g"))
    assert created.enable_exactly_once_delivery
    assert created.retry_policy.minimum_backoff.total_seconds() == 1
    assert created.retry_policy.maximum_backoff.total_seconds() == 5


async def test_the_dead_letter_policy_catches_what_is_never_settled(
    adapter: PubSubAdapter, prefix: str
) -> None:
    channel, dlq = f"{prefix}.poison", f"{prefix}.poison.dlq"
    nacker = Recorder("nack")
    spec = SubscriptionSpec(channel, "g", dead_letter_channel=dlq, max_attempts=5)
    await adapter.subscribe(spec, nacker)
    dead = Recorder()
    await adapter.subscribe(SubscriptionSpec(dlq, "dlq"), dead)
    await adapter.publish(channel, [Message({"ce-id": "1"}, b"poison")])
    await wait_until(lambda: len(dead.deliveries) >= 1, timeout=20, what="Pub/Sub's dead letter")
    assert [d.attempt for d in nacker.deliveries] == [1, 2, 3, 4, 5]  # delivery_attempt
    # pstest forwards it again and again (docs/adapters/pubsub.md); Pub/Sub forwards it once
    assert {d.message.body for d in dead.deliveries} == {b"poison"}


async def test_attempts_are_counted_without_a_dead_letter_policy(
    adapter: PubSubAdapter, prefix: str
) -> None:
    seen: list[int] = []

    async def deliver(delivery: Delivery) -> None:
        seen.append(delivery.attempt)
        await (delivery.ack() if len(seen) == 3 else delivery.nack())

    await adapter.subscribe(SubscriptionSpec(f"{prefix}.count", "g"), deliver)
    await adapter.publish(f"{prefix}.count", [Message({"a": "b"}, b"x")])
    await wait_until(lambda: len(seen) == 3)
    assert seen == [1, 2, 3]


async def test_a_delayed_nack_comes_back_after_the_delay(
    adapter: PubSubAdapter, prefix: str
) -> None:
    stamps: list[float] = []

    async def deliver(delivery: Delivery) -> None:
        stamps.append(time.monotonic())
        await (delivery.nack(1.3) if len(stamps) == 1 else delivery.ack())

    await adapter.subscribe(SubscriptionSpec(f"{prefix}.later", "g"), deliver)
    await adapter.publish(f"{prefix}.later", [Message({"a": "b"}, b"x")])
    await wait_until(lambda: len(stamps) == 2, timeout=10)
    assert stamps[1] - stamps[0] >= 1.25  # 1 s of ack deadline plus 0.3 s waited here


async def test_stop_gives_back_what_the_bus_has_not_taken(
    adapter: PubSubAdapter, prefix: str
) -> None:
    channel = f"{prefix}.jobs"
    taken: list[Delivery] = []

    async def stuck(delivery: Delivery) -> None:  # a bus whose handlers are all busy
        taken.append(delivery)
        await asyncio.Event().wait()

    first = await adapter.subscribe(SubscriptionSpec(channel, "g", max_in_flight=10), stuck)
    await adapter.publish(channel, [Message({"n": str(i)}, b"x") for i in range(10)])
    await wait_until(lambda: first.outstanding == 10 and len(taken) == 1)
    await first.stop()
    await first.close()
    other = Recorder()
    await adapter.subscribe(SubscriptionSpec(channel, "g"), other)
    await wait_until(lambda: len(other.deliveries) == 10, what="all ten again")


async def test_service_errors_are_translated(prefix: str) -> None:
    failing = PstestServer(fail=("Publish=PERMISSION_DENIED", "CreateTopic=INVALID_ARGUMENT"))
    failing.start()
    try:
        adapter = PubSubAdapter.from_url(failing.url("broker", provision="false"))
        await adapter.connect()
        with pytest.raises(PublishError) as info:
            await adapter.publish(f"{prefix}.x", [Message({"a": "b"}, b"x")])
        assert "PERMISSION_DENIED" in str(info.value) and "IAM" in str(info.value)
        assert isinstance(info.value.__cause__, gexc.PermissionDenied)
        await adapter.close()
        adapter = PubSubAdapter.from_url(failing.url("broker"))
        await adapter.connect()
        with pytest.raises(AdapterError, match=r"creating topic .* INVALID_ARGUMENT"):
            await adapter.subscribe(SubscriptionSpec(f"{prefix}.x", "g"), Recorder())
        await adapter.close()
    finally:
        failing.stop()


async def test_an_unreachable_service_is_a_connection_error(prefix: str) -> None:
    adapter = PubSubAdapter.from_url("pubsub://p?emulator_host=127.0.0.1:1&timeout=1")
    await adapter.connect()
    try:
        with pytest.raises(BrokerConnectionError, match=r"emulator at 127\.0\.0\.1:1"):
            await adapter.publish(f"{prefix}.x", [Message({"a": "b"}, b"x")])
    finally:
        await adapter.close()


async def test_limits_the_bus_cannot_see_are_checked_before_sending(
    pstest: PstestServer, prefix: str
) -> None:
    got: list[Event[Any]] = []
    async with EventBus(pstest.url("broker")) as bus:

        async def handler(event: Event[Any]) -> None:
            got.append(event)

        await bus.subscribe(f"{prefix}.note", handler)
        long_text = "é" * 600  # 600 characters pass the bus's check, 1200 bytes do not fit
        event = Event(type=f"{prefix}.note", source="/t", extensions={"note": long_text})
        with pytest.raises(LimitExceededError, match="attribute 'ce-note'"):
            await bus.publish(event)
    async with EventBus(pstest.url("broker"), content_mode=ContentMode.STRUCTURED) as bus:
        await bus.subscribe(f"{prefix}.note", handler)
        await bus.publish(event)  # structured mode: the attribute travels in the body
        await wait_until(lambda: len(got) == 1)
    assert got[0].extensions["note"] == long_text


async def test_events_from_other_pubsub_producers_decode(
    adapter: PubSubAdapter, pstest: PstestServer, prefix: str
) -> None:
    got: list[Event[Any]] = []
    async with EventBus(pstest.url("broker")) as bus:

        async def handler(event: Event[Any]) -> None:
            got.append(event)

        await bus.subscribe(f"{prefix}.foreign", handler)
        attributes = {  # sdk-go's binary mode: datacontenttype in "Content-Type"
            "ce-specversion": "1.0",
            "ce-id": "go-1",
            "ce-source": "/go",
            "ce-type": f"{prefix}.foreign",
            "Content-Type": "application/json",
        }
        await adapter.clients.publisher.publish(
            topic=topic_path(adapter, f"{prefix}.foreign"),
            messages=[types.PubsubMessage(data=b'{"a": 1}', attributes=attributes)],
        )
        await wait_until(lambda: len(got) == 1)
    assert (got[0].id, got[0].datacontenttype, got[0].data) == (
        "go-1",
        "application/json",
        {"a": 1},
    )


async def test_partition_keys_become_ordering_keys(adapter: PubSubAdapter, prefix: str) -> None:
    raw = Recorder()
    await adapter.subscribe(SubscriptionSpec(f"{prefix}.keyed", "g"), raw)
    async with EventBus(adapter) as bus:
        await bus.publish(
            Event(type=f"{prefix}.keyed", source="/t", extensions={"partitionkey": "cust-7"})
        )
        await wait_until(lambda: len(raw.deliveries) == 1)
    message = raw.deliveries[0].message
    assert message.key == "cust-7"
    assert message.headers["ce-partitionkey"] == "cust-7"
