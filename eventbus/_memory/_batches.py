"""The batch operations of a memory ``Queue`` (the ``BatchingAdapter`` contract): lease a list
of messages, ack a list of deliveries. Each does what the message-at-a-time ``Queue.take`` /
``Queue.ack`` do, in the same order, with the per-call work (clock read, timer check,
counters, wake-ups) done once per list."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from time import monotonic

from eventbus._memory._delivery import DONE, LEASED, Consumer, MemoryDelivery
from eventbus._memory._queue import Queue
from eventbus._memory._waiters import wake_one
from eventbus._wire._message import Message

__all__ = ["ack_many", "take_many"]


def take_many(queue: Queue, consumer: Consumer, limit: int) -> list[MemoryDelivery]:
    """Lease up to ``limit`` eligible messages to ``consumer``, in the order ``take`` would
    (one clock read and one timer check for the batch)."""
    if consumer.reorder or consumer.duplicate:  # draw the faults message by message
        taken: list[MemoryDelivery] = []
        while len(taken) < limit:
            delivery = queue.take(consumer)
            if delivery is None:
                break
            taken.append(delivery)
        return taken
    ready, held = queue._ready, queue._held
    taken = []
    if not ready:
        return taken
    deadline = monotonic() + consumer.ack_wait
    redelivered = 0
    new = MemoryDelivery.__new__
    while ready and len(taken) < limit:
        item = ready.popleft()
        if isinstance(item, Message):
            message = item
            # A first delivery, built without a Python-level __init__ call (hot path).
            delivery = new(MemoryDelivery)
            delivery.message, delivery.attempt, delivery._queue = item, 1, queue
        else:
            message, delivery = item.message, item
            if delivery.attempt > 1:
                redelivered += 1
        key = message.key
        if key is not None:
            holder = held.get(key)
            if holder is not None and holder is not delivery:
                blocked = queue._blocked.get(key)
                if blocked is None:
                    queue._blocked[key] = deque((item,))
                else:
                    blocked.append(item)
                continue
            held[key] = delivery
        delivery._state = LEASED
        delivery._consumer = consumer
        delivery._deadline = deadline
        taken.append(delivery)
    if taken:
        consumer.inflight.extend(taken)
        if deadline < queue._timer_at:
            queue._arm(deadline)
        stats = queue._stats
        stats.delivered += len(taken)
        stats.redelivered += redelivered
    return taken


def ack_many(queue: Queue, deliveries: Sequence[MemoryDelivery]) -> None:
    """``ack`` each delivery still leased, in order (what ``ack`` and ``remove`` do, with
    the counters and the wake-ups of publishers waiting for room done once)."""
    held, waiters = queue._held, queue._waiters
    acked = 0
    consumer: Consumer | None = None
    for delivery in deliveries:
        if delivery._state != LEASED:
            continue  # expired, returned or settled meanwhile: as ``ack``, nothing to do
        consumer = delivery._consumer
        if consumer.crash and consumer.rng.random() < consumer.crash:
            queue._stats.acks_dropped += 1
            queue.requeue(delivery)
            continue
        acked += 1
        delivery._state = DONE
        key = delivery.message.key
        if key is not None and held.get(key) is delivery:
            del held[key]
            blocked = queue._blocked.get(key)
            if blocked is not None:
                queue._ready.appendleft(blocked.popleft())
                if not blocked:
                    del queue._blocked[key]
                wake_one(waiters)
    if consumer is not None:
        queue._trim(consumer)
    if acked:
        queue._count -= acked
        queue._stats.acked += acked
        room_waiters = queue._room_waiters
        for _ in range(acked):
            if not room_waiters:
                break
            wake_one(room_waiters)
