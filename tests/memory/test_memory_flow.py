"""Publisher dedupe and bounded queues (backpressure on publish)."""

from __future__ import annotations

import asyncio

import pytest
from memory_helpers import Inbox, msg, settle_all

from eventbus._adapter._contract import SubscriptionSpec
from eventbus._memory import MemoryAdapter


async def test_a_dedupe_id_seen_within_the_window_is_dropped(adapter: MemoryAdapter) -> None:
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg("1", dedupe_id="id-1"), msg("1 again", dedupe_id="id-1")])
    await adapter.publish("c", [msg("1 resent", dedupe_id="id-1"), msg("2", dedupe_id="id-2")])
    await adapter.publish("c", [msg("no id"), msg("no id")])
    await inbox.wait_for(4)
    assert await inbox.stays_at(4)
    assert inbox.bodies == ["1", "2", "no id", "no id"]
    assert adapter.broker.stats.deduplicated == 2


async def test_dedupe_is_per_channel(adapter: MemoryAdapter) -> None:
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("orders.*"), inbox)
    await adapter.publish("orders.a", [msg("a", dedupe_id="same")])
    await adapter.publish("orders.b", [msg("b", dedupe_id="same")])
    await inbox.wait_for(2)
    assert inbox.bodies == ["a", "b"]


async def test_a_dedupe_id_is_accepted_again_after_the_window() -> None:
    adapter = MemoryAdapter(dedupe_window=0.3)
    await adapter.connect()
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg("first", dedupe_id="x")])
    await asyncio.sleep(0.01)
    await adapter.publish("c", [msg("inside the window", dedupe_id="x")])
    await asyncio.sleep(0.3)  # more than 0.3 s after the first publish
    await adapter.publish("c", [msg("after the window", dedupe_id="x")])
    await adapter.publish("c", [msg("inside the new window", dedupe_id="x")])
    await inbox.wait_for(2)
    assert await inbox.stays_at(2)
    assert inbox.bodies == ["first", "after the window"]
    await adapter.close()


async def test_dedupe_remembers_ids_across_its_generations() -> None:
    """The id table rotates every window; an id from the previous generation still counts."""
    adapter = MemoryAdapter(dedupe_window=0.3)
    await adapter.connect()
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg("warm-up")])  # the channel's table starts here
    await asyncio.sleep(0.2)
    await adapter.publish("c", [msg("x", dedupe_id="x")])
    await asyncio.sleep(0.15)  # the table rotated; "x" is 0.15 s old
    await adapter.publish("c", [msg("x again", dedupe_id="x")])
    await inbox.wait_for(2)
    assert await inbox.stays_at(2)
    assert inbox.bodies == ["warm-up", "x"]
    await adapter.close()


async def test_dedupe_window_zero_disables_dedupe() -> None:
    adapter = MemoryAdapter(dedupe_window=0)
    await adapter.connect()
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c"), inbox)
    await adapter.publish("c", [msg("a", dedupe_id="x"), msg("b", dedupe_id="x")])
    await inbox.wait_for(2)
    await adapter.close()


async def test_publish_waits_while_the_queue_is_full_then_completes() -> None:
    adapter = MemoryAdapter(max_queue=2)
    await adapter.connect()
    holder = Inbox(ack=False)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), holder)
    publishing = asyncio.create_task(adapter.publish("c", [msg(str(i)) for i in range(5)]))
    await holder.wait_for(2)
    await settle_all()
    assert not publishing.done(), "publish must wait while the queue is full"
    assert adapter.broker.depth("c", "g") == 2
    assert adapter.broker.stats.published == 2

    for expected in range(5):
        delivery = (await holder.wait_for(expected + 1))[expected]
        assert delivery.message.body == str(expected).encode()
        await delivery.ack()
    await asyncio.wait_for(publishing, 1)
    assert adapter.broker.stats.published == 5
    assert adapter.broker.depth("c", "g") == 0
    await adapter.close()


async def test_a_bounded_queue_without_consumers_holds_publishers(broker_name: str) -> None:
    producer = MemoryAdapter(broker_name, max_queue=1)
    await producer.connect()
    await producer.subscribe(SubscriptionSpec("c", group="g"), Inbox(ack=False))
    await producer.close()  # the group queue (bounded at 1) stays
    await producer.connect()
    await producer.publish("c", [msg("fits")])
    blocked = asyncio.create_task(producer.publish("c", [msg("waits")]))
    await settle_all()
    assert not blocked.done()
    consumer = MemoryAdapter(broker_name)
    await consumer.connect()
    inbox = Inbox()
    await consumer.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await asyncio.wait_for(blocked, 1)
    await inbox.wait_for(2)
    assert inbox.bodies == ["fits", "waits"]
    await consumer.close()
    await producer.close()


async def test_cancelled_publish_can_be_retried_without_dedupe_loss() -> None:
    adapter = MemoryAdapter(max_queue=1)
    await adapter.connect()
    holder = Inbox(ack=False)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), holder)
    await adapter.publish("c", [msg("a", dedupe_id="a")])
    blocked = asyncio.create_task(adapter.publish("c", [msg("b", dedupe_id="b")]))
    await settle_all()
    blocked.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocked
    (first,) = await holder.wait_for(1)
    await first.ack()
    await adapter.publish("c", [msg("b", dedupe_id="b")])  # not a duplicate: never stored
    await holder.wait_for(2)
    assert holder.bodies == ["a", "b"]
    await adapter.close()


async def test_closing_a_full_fan_out_subscription_releases_the_publisher() -> None:
    adapter = MemoryAdapter(max_queue=1)
    await adapter.connect()
    subscription = await adapter.subscribe(SubscriptionSpec("c"), Inbox(ack=False))
    await adapter.publish("c", [msg("1")])
    blocked = asyncio.create_task(adapter.publish("c", [msg("2")]))
    await settle_all()
    assert not blocked.done()
    await subscription.close()
    await asyncio.wait_for(blocked, 1)
    assert adapter.broker.stats.unrouted == 1
    await adapter.close()
