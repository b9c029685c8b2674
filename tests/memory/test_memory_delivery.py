"""At-least-once: ack, nack, delayed redelivery, lock expiry, close, ordering keys, dead letters."""

from __future__ import annotations

import asyncio

from memory_helpers import Inbox, eventually, msg, settle_all

from eventbus._adapter._contract import DEAD_LETTER_GROUP, DeadLetter, Delivery, SubscriptionSpec
from eventbus._memory import MemoryAdapter


async def test_nack_redelivers_with_the_next_attempt(adapter: MemoryAdapter) -> None:
    async def fail_twice(delivery: Delivery) -> None:
        if delivery.attempt < 3:
            await delivery.nack()
        else:
            await delivery.ack()

    inbox = Inbox(fail_twice)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg("m")])
    await inbox.wait_for(3)
    assert await inbox.stays_at(3)
    assert inbox.attempts == [1, 2, 3]
    stats = adapter.broker.stats
    assert (stats.nacked, stats.redelivered, stats.acked, stats.delivered) == (2, 2, 1, 3)
    assert adapter.broker.depth("c", "g") == 0


async def test_nack_delay_is_honoured(adapter: MemoryAdapter) -> None:
    async def retry_later(delivery: Delivery) -> None:
        if delivery.attempt == 1:
            await delivery.nack(delay=0.3)
        else:
            await delivery.ack()

    inbox = Inbox(retry_later)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg("m")])
    await inbox.wait_for(1)
    assert await inbox.stays_at(1, wait=0.1), "redelivered before the nack delay"
    assert adapter.broker.depth("c", "g") == 1
    await inbox.wait_for(2)
    assert inbox.times[1] - inbox.times[0] >= 0.3
    assert inbox.attempts == [1, 2]


async def test_unsettled_delivery_is_redelivered_after_ack_wait(adapter: MemoryAdapter) -> None:
    inbox = Inbox(ack=False)
    await adapter.subscribe(SubscriptionSpec("c", group="g", ack_wait=0.1), inbox)
    await adapter.publish("c", [msg("m")])
    first, second = await inbox.wait_for(2)
    assert inbox.times[1] - inbox.times[0] >= 0.1
    assert (first.attempt, second.attempt) == (1, 2)
    assert adapter.broker.stats.expired == 1
    await first.ack()  # late ack of the expired delivery: ignored
    assert adapter.broker.depth("c", "g") == 1
    assert adapter.broker.stats.acked == 0
    await second.ack()
    assert adapter.broker.depth("c", "g") == 0
    assert await inbox.stays_at(2, wait=0.15), "an acked delivery must not expire"


async def test_expiry_hands_the_message_to_another_consumer_while_the_first_is_stuck(
    adapter: MemoryAdapter,
) -> None:
    stuck = asyncio.Event()

    async def never_returns(delivery: Delivery) -> None:
        stuck.set()
        await asyncio.Event().wait()

    await adapter.subscribe(SubscriptionSpec("c", group="g", ack_wait=0.1), never_returns)
    await adapter.publish("c", [msg("m")])
    await asyncio.wait_for(stuck.wait(), 1)
    other = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g", ack_wait=5), other)
    (delivery,) = await other.wait_for(1)
    assert delivery.attempt == 2
    assert adapter.broker.stats.expired == 1
    await settle_all()
    assert adapter.broker.depth("c", "g") == 0


async def test_settling_twice_is_a_no_op(adapter: MemoryAdapter) -> None:
    inbox = Inbox(ack=False)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg("m")])
    (delivery,) = await inbox.wait_for(1)
    await delivery.ack()
    await delivery.ack()
    await delivery.nack()
    await delivery.dead_letter(DeadLetter(msg("m"), "dead", "r", "d"))
    assert await inbox.stays_at(1)
    stats = adapter.broker.stats
    assert (stats.acked, stats.nacked, stats.dead_lettered) == (1, 0, 0)


async def test_close_returns_unsettled_messages_to_the_group(adapter: MemoryAdapter) -> None:
    holder = Inbox(ack=False)
    subscription = await adapter.subscribe(SubscriptionSpec("c", group="g"), holder)
    await adapter.publish("c", [msg("a"), msg("b")])
    await holder.wait_for(2)
    await subscription.close()
    assert adapter.broker.depth("c", "g") == 2
    assert adapter.broker.stats.returned == 2
    await holder.deliveries[0].ack()  # too late: the subscription gave it back
    assert adapter.broker.depth("c", "g") == 2

    taker = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), taker)
    await taker.wait_for(2)
    assert taker.bodies == ["a", "b"]
    assert taker.attempts == [2, 2]


async def test_adapter_close_returns_unsettled_but_keeps_the_named_queue(
    broker_name: str,
) -> None:
    first = MemoryAdapter(broker_name)
    await first.connect()
    holder = Inbox(ack=False)
    await first.subscribe(SubscriptionSpec("c", group="g"), holder)
    await first.publish("c", [msg("a")])
    await holder.wait_for(1)
    await first.close()

    second = MemoryAdapter(broker_name)
    await second.connect()
    taker = Inbox()
    await second.subscribe(SubscriptionSpec("c", group="g"), taker)
    (delivery,) = await taker.wait_for(1)
    assert (delivery.message.body, delivery.attempt) == (b"a", 2)
    await second.close()


async def test_per_key_order_holds_across_retries(adapter: MemoryAdapter) -> None:
    """A nacked message of key K blocks later K messages (even while it waits for its delay)."""
    log: list[tuple[str, int]] = []

    async def nack_even_messages_once(delivery: Delivery) -> None:
        key, number = delivery.message.body.decode().split("-")
        log.append((key, int(number)))
        if int(number) % 2 == 0 and delivery.attempt == 1:
            await delivery.nack(delay=0.02)
        else:
            await delivery.ack()

    for _ in range(3):
        await adapter.subscribe(SubscriptionSpec("c", group="g"), Inbox(nack_even_messages_once))
    sent = [msg(f"{key}-{n}", key=key) for n in range(10) for key in ("a", "b", "c")]
    sent += [msg(f"none-{n}") for n in range(10)]
    await adapter.publish("c", sent)
    await eventually(lambda: adapter.broker.depth("c", "g") == 0)
    # every even message shows up twice (nacked, then retried) before the next one of its key
    expected = [n for n in range(10) for _ in range(2 if n % 2 == 0 else 1)]
    for key in ("a", "b", "c"):
        assert [n for k, n in log if k == key] == expected, key
    assert sorted(n for k, n in log if k == "none") == sorted(expected)
    assert adapter.broker.stats.nacked == 20


async def test_keyed_messages_wait_while_an_earlier_one_is_unsettled(
    adapter: MemoryAdapter,
) -> None:
    first, second = Inbox(ack=False), Inbox(ack=False)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), first)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), second)
    await adapter.publish("c", [msg("k1", key="k"), msg("k2", key="k"), msg("free")])
    await settle_all()
    handed = first.bodies + second.bodies
    assert sorted(handed) == ["free", "k1"], "k2 must wait for k1"
    k1 = next(d for d in first.deliveries + second.deliveries if d.message.body == b"k1")
    await k1.ack()
    await settle_all()
    assert sorted(first.bodies + second.bodies) == ["free", "k1", "k2"]


async def test_dead_letter_lands_in_the_dlq_group(adapter: MemoryAdapter) -> None:
    dead_message = msg("dead-copy")

    async def reject(delivery: Delivery) -> None:
        await delivery.dead_letter(DeadLetter(dead_message, "orders.dead", "rejected", "nope"))

    spec = SubscriptionSpec("orders", group="g", dead_letter_channel="orders.dead")
    inbox = Inbox(reject)
    await adapter.subscribe(spec, inbox)
    early = msg("early")
    await adapter.publish("orders.dead", [early])  # kept: the dlq queue exists from subscribe on
    await adapter.publish("orders", [msg("m")])
    await inbox.wait_for(1)
    await settle_all()
    assert adapter.broker.depth("orders", "g") == 0
    assert adapter.broker.peek("orders.dead", DEAD_LETTER_GROUP) == [early, dead_message]
    assert adapter.broker.stats.dead_lettered == 1
    assert adapter.broker.stats.acked == 0

    reader = Inbox()
    await adapter.subscribe(SubscriptionSpec("orders.dead", group=DEAD_LETTER_GROUP), reader)
    await reader.wait_for(2)
    assert [d.message for d in reader.deliveries] == [early, dead_message]
    await settle_all()
    assert adapter.broker.depth("orders.dead", DEAD_LETTER_GROUP) == 0


async def test_peek_and_depth_do_not_consume(adapter: MemoryAdapter) -> None:
    holder = Inbox(ack=False)
    subscription = await adapter.subscribe(SubscriptionSpec("c", group="g"), holder)
    await adapter.publish("c", [msg("a"), msg("b"), msg("c", key="k")])
    await holder.wait_for(3)
    assert adapter.broker.depth("c", "g") == 3  # leased messages are not acked yet
    assert [m.body for m in adapter.broker.peek("c", "g")] == [b"a", b"b", b"c"]
    await holder.deliveries[1].nack(delay=10)
    assert [m.body for m in adapter.broker.peek("c", "g")] == [b"a", b"c", b"b"]
    assert adapter.broker.depth("missing", "g") == 0
    assert adapter.broker.peek("missing", None) == []
    await subscription.close()


async def test_a_slow_deliver_gets_one_message_at_a_time(adapter: MemoryAdapter) -> None:
    """The pump does not prefetch: while deliver blocks, the rest stays available to others."""
    gate = asyncio.Event()

    async def blocked_deliver(delivery: Delivery) -> None:
        await gate.wait()
        await delivery.ack()

    slow = Inbox(blocked_deliver)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), slow)
    await adapter.publish("c", [msg(str(i)) for i in range(5)])
    await settle_all()
    assert len(slow.deliveries) == 1
    fast = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), fast)
    await fast.wait_for(4)
    gate.set()
    await settle_all()
    assert sorted(slow.bodies + fast.bodies) == [str(i) for i in range(5)]
    assert adapter.broker.depth("c", "g") == 0


async def test_deliver_failure_redelivers(adapter: MemoryAdapter) -> None:
    calls: list[int] = []

    async def broken_once(delivery: Delivery) -> None:
        calls.append(delivery.attempt)
        if len(calls) == 1:
            raise RuntimeError("bus bug")
        await delivery.ack()

    await adapter.subscribe(SubscriptionSpec("c", group="g"), broken_once)
    await adapter.publish("c", [msg("m")])
    await eventually(lambda: len(calls) >= 2)
    assert calls == [1, 2]
