"""One queue of the in-memory broker.

A queue holds every message it received and nobody acked yet, in four places:

- ``_ready``: a deque in delivery order (redeliveries go to the front, new messages to the back);
  a first delivery is stored as the bare ``Message`` and gets its ``MemoryDelivery`` when taken;
- ``_blocked``: per ordering key, a deque of messages waiting while an earlier message of the same
  key is unsettled (``_held`` maps each such key to the delivery that holds it);
- ``_delayed``: a heap of ``(due, tie, delivery)`` for nacks with a delay;
- each consumer's ``inflight`` deque of leases, in lease order (so in deadline order, since one
  consumer has one ack_wait); settled leases are dropped lazily from its front.

One timer per queue (armed on the running loop only while consumers are attached, at the earliest
lease deadline or delayed due time) expires leases and promotes delayed messages; the hot path
only compares one float. Waiting pumps park on a Future each, woken one per ready message.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import sys
from collections import deque
from collections.abc import Sequence
from heapq import heapify, heappop, heappush
from time import monotonic
from typing import TYPE_CHECKING

from eventbus._memory._delivery import DONE, LEASED, Consumer, DuplicateDelivery, MemoryDelivery
from eventbus._memory._faults import MemoryStats
from eventbus._memory._waiters import Waiters, park, wake_one
from eventbus._wire._message import Message

if TYPE_CHECKING:
    from eventbus._memory._broker import MemoryBroker

__all__ = ["Queue"]

_NEVER = math.inf
Item = Message | MemoryDelivery  # a bare Message is a first delivery not yet taken


class Queue:
    """A subscription queue: one per (pattern, group), or one per fan-out subscription."""

    def __init__(
        self, broker: MemoryBroker, pattern: str, group: str | None, max_size: int | None
    ) -> None:
        self.broker = broker
        self.pattern = pattern
        self.tokens = tuple(pattern.split("."))
        self.group = group
        self.max_size = max_size if max_size is not None else sys.maxsize
        self.closed = False
        self._stats: MemoryStats = broker.stats
        self._count = 0  # every message not yet settled, wherever it is
        self._ready: deque[Item] = deque()
        self._held: dict[str, MemoryDelivery] = {}
        self._blocked: dict[str, deque[Item]] = {}
        self._delayed: list[tuple[float, int, MemoryDelivery]] = []
        self._ties = itertools.count()
        self._consumers: list[Consumer] = []
        self._waiters: Waiters = deque()
        self._room_waiters: Waiters = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = _NEVER

    @property
    def depth(self) -> int:
        return self._count

    @property
    def full(self) -> bool:
        return self._count >= self.max_size

    def __repr__(self) -> str:
        return f"<Queue {self.pattern!r} group={self.group!r} depth={self._count}>"

    # -- producing ------------------------------------------------------------------------------

    def put(self, message: Message) -> None:
        self._ready.append(message)
        self._count += 1
        if self._waiters:
            wake_one(self._waiters)

    def put_many(self, messages: Sequence[Message]) -> None:
        """``put`` each message, in order (one waiting pump woken per message)."""
        self._ready.extend(messages)
        self._count += len(messages)
        waiters = self._waiters
        if waiters:
            for _ in range(len(messages)):
                if not waiters:
                    break
                wake_one(waiters)

    async def wait_room(self) -> None:
        """Wait until the queue is below ``max_size`` (or closed)."""
        while self._count >= self.max_size and not self.closed:
            await park(self._room_waiters)

    # -- consuming ------------------------------------------------------------------------------

    def take(self, consumer: Consumer) -> MemoryDelivery | None:
        """Lease the next eligible message to ``consumer``, or return None."""
        ready = self._ready
        while ready:
            if consumer.reorder and len(ready) > 1 and consumer.rng.random() < consumer.reorder:
                self._swap_front(ready)
            item = ready.popleft()
            if isinstance(item, Message):
                message, delivery = item, None
            else:
                message, delivery = item.message, item
            key = message.key
            if key is not None:
                holder = self._held.get(key)
                if holder is not None and holder is not delivery:
                    blocked = self._blocked.get(key)
                    if blocked is None:
                        self._blocked[key] = deque((item,))
                    else:
                        blocked.append(item)
                    continue
            if delivery is None:
                delivery = MemoryDelivery(message, 1, self)
            if key is not None:
                self._held[key] = delivery
            delivery._state = LEASED
            delivery._consumer = consumer
            deadline = delivery._deadline = monotonic() + consumer.ack_wait
            consumer.inflight.append(delivery)
            if deadline < self._timer_at:
                self._arm(deadline)
            stats = self._stats
            stats.delivered += 1
            if delivery.attempt > 1:
                stats.redelivered += 1
            duplicate = consumer.duplicate
            if duplicate and not delivery.duplicate and consumer.rng.random() < duplicate:
                self._inject_duplicate(delivery, key)
            return delivery
        return None

    async def wait_ready(self) -> None:
        """Park until something may have become ready."""
        await park(self._waiters)

    def ack(self, delivery: MemoryDelivery) -> None:
        consumer = delivery._consumer
        if consumer.crash and consumer.rng.random() < consumer.crash:
            self._stats.acks_dropped += 1
            self.requeue(delivery)
            return
        self._stats.acked += 1
        self.remove(delivery)

    def extend(self, delivery: MemoryDelivery) -> None:
        """Push a lease's deadline back by its ack wait (keeping ``inflight`` in deadline order)."""
        consumer = delivery._consumer
        delivery._deadline = monotonic() + consumer.ack_wait
        consumer.inflight.remove(delivery)
        consumer.inflight.append(delivery)

    def nack(self, delivery: MemoryDelivery, delay: float | None) -> None:
        self._stats.nacked += 1
        self.requeue(delivery, delay)

    def remove(self, delivery: MemoryDelivery) -> None:
        """Settle a leased delivery for good: the message leaves the queue."""
        delivery._state = DONE
        self._count -= 1
        key = delivery.message.key
        if key is not None and self._held.get(key) is delivery:
            del self._held[key]
            blocked = self._blocked.get(key)
            if blocked is not None:
                self._ready.appendleft(blocked.popleft())
                if not blocked:
                    del self._blocked[key]
                wake_one(self._waiters)
        inflight = delivery._consumer.inflight
        while inflight and inflight[0]._state != LEASED:
            inflight.popleft()
        if self._room_waiters:
            wake_one(self._room_waiters)

    def requeue(self, delivery: MemoryDelivery, delay: float | None = None) -> None:
        """Give a leased message back for redelivery with attempt + 1 (keeping its key held)."""
        delivery._state = DONE
        again = delivery.again()
        key = delivery.message.key
        if key is not None and self._held.get(key) is delivery:
            self._held[key] = again
        self._trim(delivery._consumer)
        if delay is not None and delay > 0:
            due = monotonic() + delay
            heappush(self._delayed, (due, next(self._ties), again))
            if due < self._timer_at:
                self._arm(due)
        else:
            self._ready.appendleft(again)
            wake_one(self._waiters)

    # -- consumers ------------------------------------------------------------------------------

    def attach(self, consumer: Consumer) -> None:
        self._consumers.append(consumer)
        self._rearm()  # also moves a timer left on a finished event loop to this one

    def detach(self, consumer: Consumer) -> None:
        """Remove a consumer; its unsettled messages go back to the front, attempt + 1."""
        self._consumers.remove(consumer)
        leased = [d for d in consumer.inflight if d._state == LEASED]
        consumer.inflight.clear()
        for delivery in reversed(leased):
            self._stats.returned += 1
            self.requeue(delivery)
        if not self._consumers:
            self._cancel_timer()

    def close(self) -> None:
        """Delete the queue (a fan-out queue whose subscriber left): wake blocked publishers.

        Deliveries still out become no-ops to settle; their messages go with the queue.
        """
        self.closed = True
        self._cancel_timer()
        for consumer in self._consumers:
            for delivery in consumer.inflight:
                delivery._state = DONE
            consumer.inflight.clear()
        self._consumers.clear()
        while self._room_waiters:
            wake_one(self._room_waiters)

    def messages(self) -> list[Message]:
        """Every unsettled message: leased, then ready, held back by key, and delayed (by due)."""
        items: list[Item] = [d for c in self._consumers for d in c.inflight if d._state == LEASED]
        items.extend(self._ready)
        for blocked in self._blocked.values():
            items.extend(blocked)
        items.extend(entry[2] for entry in sorted(self._delayed))
        return [item if isinstance(item, Message) else item.message for item in items]

    def discard(self, messages: set[int]) -> int:
        """Settle for good every unsettled message whose ``id()`` is in ``messages``, wherever
        it is (a leased one's holder then settles nothing); return how many left the queue."""

        def keep(item: Item) -> bool:
            return id(item if isinstance(item, Message) else item.message) not in messages

        leased = 0
        for consumer in self._consumers:
            for delivery in list(consumer.inflight):
                if delivery._state == LEASED and not keep(delivery):
                    self.remove(delivery)  # counts it
                    leased += 1
        queued = 0
        for items in (self._ready, *self._blocked.values()):
            kept = [item for item in items if keep(item)]
            queued += len(items) - len(kept)
            items.clear()
            items.extend(kept)
        for key in [k for k, blocked in self._blocked.items() if not blocked]:
            del self._blocked[key]
        delayed = [entry for entry in self._delayed if keep(entry[2])]
        queued += len(self._delayed) - len(delayed)
        heapify(delayed)
        self._delayed = delayed
        self._count -= queued
        if queued and self._room_waiters:
            wake_one(self._room_waiters)
        removed = leased + queued
        return removed

    # -- internals ------------------------------------------------------------------------------

    def _swap_front(self, ready: deque[Item]) -> None:
        # Only messages with different keys trade places (no key counts as one more key value),
        # so neither per-key order nor the order of a stream without keys changes.
        first, second = ready[0], ready[1]
        first_key = first.key if isinstance(first, Message) else first.message.key
        second_key = second.key if isinstance(second, Message) else second.message.key
        if first_key != second_key:
            ready[0], ready[1] = second, first
            self._stats.reorders_injected += 1

    def _inject_duplicate(self, delivery: MemoryDelivery, key: str | None) -> None:
        # The copy is next in line: right away without a key, after the original with one.
        copy = DuplicateDelivery(delivery.message, delivery.attempt, self)
        self._count += 1
        self._stats.duplicates_injected += 1
        if key is None:
            self._ready.appendleft(copy)
            return
        blocked = self._blocked.get(key)
        if blocked is None:
            self._blocked[key] = deque((copy,))
        else:
            blocked.appendleft(copy)

    @staticmethod
    def _trim(consumer: Consumer) -> None:
        inflight = consumer.inflight
        while inflight and inflight[0]._state != LEASED:
            inflight.popleft()

    def _arm(self, at: float) -> None:
        if not self._consumers or self.closed:
            return  # nobody to deliver to: the timer is armed again on attach
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = loop.call_later(max(0.0, at - monotonic()), self._on_timer)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = _NEVER

    def _rearm(self) -> None:
        self._cancel_timer()
        at = self._next_deadline()
        if at < _NEVER:
            self._arm(at)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = _NEVER
        self._sweep(monotonic())
        self._rearm()

    def _sweep(self, now: float) -> None:
        delayed = self._delayed
        while delayed and delayed[0][0] <= now:
            self._ready.append(heappop(delayed)[2])
            wake_one(self._waiters)
        for consumer in self._consumers:
            inflight = consumer.inflight
            expired: list[MemoryDelivery] = []
            while inflight:
                delivery = inflight[0]
                if delivery._state == LEASED:
                    if delivery._deadline > now:
                        break
                    expired.append(delivery)
                inflight.popleft()
            for delivery in reversed(expired):
                self._stats.expired += 1
                self.requeue(delivery)

    def _next_deadline(self) -> float:
        at = self._delayed[0][0] if self._delayed else _NEVER
        for consumer in self._consumers:
            self._trim(consumer)
            if consumer.inflight and consumer.inflight[0]._deadline < at:
                at = consumer.inflight[0]._deadline
        return at
