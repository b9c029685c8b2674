"""Publish/subscribe, wildcards, fan-out versus groups, named brokers, limits and validation."""

from __future__ import annotations

import pytest
from memory_helpers import Inbox, eventually, msg, settle_all

from eventbus._adapter._contract import (
    Adapter,
    ReplyingAdapter,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus._errors import BrokerConnectionError, ChannelNameError, LimitExceededError
from eventbus._memory import MemoryAdapter, forget_brokers
from eventbus._wire._message import Message


async def test_publish_reaches_a_subscriber_in_order(adapter: MemoryAdapter) -> None:
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("orders.created"), inbox)
    await adapter.publish("orders.created", [msg("a"), msg("b")])
    await adapter.publish("orders.created", [msg("c")])
    await inbox.wait_for(3)
    assert inbox.bodies == ["a", "b", "c"]
    assert inbox.attempts == [1, 1, 1]
    assert adapter.broker.stats.acked == 3


async def test_message_is_passed_through_unchanged(adapter: MemoryAdapter) -> None:
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c"), inbox)
    sent = Message({"ce-id": "1", "ce-flag": True}, b"\x00body", key="k", dedupe_id="1")
    await adapter.publish("c", [sent])
    (delivery,) = await inbox.wait_for(1)
    assert delivery.message == sent


async def test_messages_published_before_any_subscription_are_dropped(
    adapter: MemoryAdapter,
) -> None:
    await adapter.publish("orders.created", [msg("early")])
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("orders.created", group="g"), inbox)
    await adapter.publish("orders.created", [msg("late")])
    await inbox.wait_for(1)
    assert await inbox.stays_at(1)
    assert inbox.bodies == ["late"]
    assert adapter.broker.stats.unrouted == 1


@pytest.mark.parametrize(
    ("pattern", "matching", "not_matching"),
    [
        ("orders.*", ["orders.created", "orders.paid"], ["orders", "orders.created.v2", "x.a"]),
        ("orders.>", ["orders.created", "orders.created.v2"], ["orders", "invoices.created"]),
        ("*.created", ["orders.created", "invoices.created"], ["orders.created.v2", "created"]),
        ("a.*.c.>", ["a.b.c.d", "a.x.c.d.e"], ["a.b.c", "a.b.x.d"]),
        (">", ["a", "a.b.c"], []),
    ],
)
async def test_wildcard_patterns(
    adapter: MemoryAdapter, pattern: str, matching: list[str], not_matching: list[str]
) -> None:
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec(pattern), inbox)
    for channel in not_matching + matching:
        await adapter.publish(channel, [msg(channel)])
    await inbox.wait_for(len(matching))
    assert await inbox.stays_at(len(matching))
    assert inbox.bodies == matching


async def test_fan_out_gives_every_subscriber_every_message(adapter: MemoryAdapter) -> None:
    first, second = Inbox(), Inbox()
    await adapter.subscribe(SubscriptionSpec("c"), first)
    await adapter.subscribe(SubscriptionSpec("c"), second)
    await adapter.publish("c", [msg(str(i)) for i in range(10)])
    await first.wait_for(10)
    await second.wait_for(10)
    assert first.bodies == second.bodies == [str(i) for i in range(10)]


async def test_group_splits_the_work_and_each_message_is_handled_once(
    adapter: MemoryAdapter,
) -> None:
    inboxes = [Inbox() for _ in range(3)]
    for inbox in inboxes:
        await adapter.subscribe(SubscriptionSpec("jobs", group="workers"), inbox)
    await adapter.publish("jobs", [msg(str(i)) for i in range(300)])
    await eventually(lambda: sum(len(i.deliveries) for i in inboxes) >= 300)
    await settle_all()
    seen = sorted(int(body) for inbox in inboxes for body in inbox.bodies)
    assert seen == list(range(300))
    assert all(inbox.deliveries for inbox in inboxes), "every consumer should get some work"
    assert adapter.broker.depth("jobs", "workers") == 0


async def test_groups_and_fan_out_each_get_a_copy(adapter: MemoryAdapter) -> None:
    billing, shipping, audit = Inbox(), Inbox(), Inbox()
    await adapter.subscribe(SubscriptionSpec("orders.*", group="billing"), billing)
    await adapter.subscribe(SubscriptionSpec("orders.created", group="shipping"), shipping)
    await adapter.subscribe(SubscriptionSpec("orders.>"), audit)
    await adapter.publish("orders.created", [msg("o1")])
    for inbox in (billing, shipping, audit):
        assert (await inbox.wait_for(1))[0].message.body == b"o1"


async def test_group_queue_is_durable_after_its_last_consumer_closes(
    adapter: MemoryAdapter,
) -> None:
    subscription = await adapter.subscribe(SubscriptionSpec("c", group="g"), Inbox())
    await subscription.close()
    await adapter.publish("c", [msg("kept-1"), msg("kept-2")])
    assert adapter.broker.depth("c", "g") == 2
    assert [m.body for m in adapter.broker.peek("c", "g")] == [b"kept-1", b"kept-2"]
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await inbox.wait_for(2)
    assert inbox.bodies == ["kept-1", "kept-2"]


async def test_fan_out_queue_goes_away_with_its_subscriber(adapter: MemoryAdapter) -> None:
    holder = Inbox(ack=False)
    subscription = await adapter.subscribe(SubscriptionSpec("c"), holder)
    await adapter.publish("c", [msg("held")])
    (delivery,) = await holder.wait_for(1)
    assert adapter.broker.depth("c") == 1
    await subscription.close()
    await delivery.ack()  # a no-op: the queue is gone
    await adapter.publish("c", [msg("lost")])
    assert adapter.broker.depth("c") == 0
    stats = adapter.broker.stats
    assert (stats.unrouted, stats.acked, stats.returned) == (1, 0, 0)


async def test_adapters_with_the_same_name_share_a_broker(broker_name: str) -> None:
    producer, consumer = (
        MemoryAdapter(broker_name),
        MemoryAdapter.from_url(f"memory://{broker_name}"),
    )
    assert producer.broker is consumer.broker
    await producer.connect()
    await consumer.connect()
    inbox = Inbox()
    await consumer.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await producer.publish("c", [msg("hello")])
    await inbox.wait_for(1)
    await consumer.close()
    await producer.publish("c", [msg("while-away")])
    assert MemoryAdapter(broker_name).broker.depth("c", "g") == 1  # close kept the named queue
    await producer.close()
    forget_brokers(broker_name)
    assert MemoryAdapter(broker_name).broker is not producer.broker


async def test_private_brokers_are_isolated() -> None:
    first, second = MemoryAdapter(), MemoryAdapter.from_url("memory://")
    assert first.broker is not second.broker


async def test_publish_and_subscribe_need_connect() -> None:
    adapter = MemoryAdapter()
    with pytest.raises(BrokerConnectionError):
        await adapter.publish("c", [msg("x")])
    await adapter.connect()
    await adapter.close()
    with pytest.raises(BrokerConnectionError):
        await adapter.subscribe(SubscriptionSpec("c"), Inbox())


@pytest.mark.parametrize("channel", ["", "orders.*", "orders.>", "bad channel", ".x", "a/b"])
async def test_publish_rejects_bad_channel_names(adapter: MemoryAdapter, channel: str) -> None:
    with pytest.raises(ChannelNameError) as info:
        await adapter.publish(channel, [msg("x")])
    assert info.value.channel == channel


@pytest.mark.parametrize("pattern", ["", "a.>.b", "a*", "a.b*.c", "a b", ">x"])
async def test_subscribe_rejects_bad_patterns(adapter: MemoryAdapter, pattern: str) -> None:
    with pytest.raises(ChannelNameError):
        await adapter.subscribe(SubscriptionSpec(pattern), Inbox())


async def test_publish_rejects_a_message_above_the_size_limit() -> None:
    adapter = MemoryAdapter(max_message_bytes=100)
    await adapter.connect()
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c"), inbox)
    ok = Message({}, b"x" * 100)
    too_big = Message({"h": "v"}, b"x" * 99)
    with pytest.raises(LimitExceededError) as info:
        await adapter.publish("c", [ok, too_big])
    assert (info.value.maximum, info.value.actual) == (100, 101)
    assert adapter.broker.stats.published == 0, "a rejected batch stores nothing"
    await adapter.publish("c", [ok])
    await inbox.wait_for(1)
    await adapter.close()


def test_capabilities_and_protocol() -> None:
    adapter = MemoryAdapter()
    assert isinstance(adapter, Adapter)
    assert isinstance(adapter, ReplyingAdapter)
    caps = adapter.capabilities
    for semantic in Semantic:
        expected = Support.UNSUPPORTED if semantic is Semantic.TTL else Support.NATIVE
        assert caps.support(semantic) is expected, semantic
    assert caps.limits.max_message_bytes == 1024 * 1024
    assert caps.limits.max_header_count is None
    assert MemoryAdapter(max_message_bytes=10).capabilities.limits.max_message_bytes == 10
