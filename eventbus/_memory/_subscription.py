"""A subscription of the in-memory adapter: one pump task between a queue and ``deliver`` (or,
for the bus, ``deliver_many``: the batch contract)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence

from eventbus._adapter._contract import (
    Deliver,
    DeliverMany,
    Delivery,
    Limits,
    SubscriptionSpec,
)
from eventbus._memory._batches import ack_many, take_many
from eventbus._memory._broker import MemoryBroker
from eventbus._memory._delivery import Consumer, MemoryDelivery
from eventbus._memory._faults import MemoryFaults
from eventbus._memory._queue import Queue

__all__ = ["MemorySubscription"]

_log = logging.getLogger("eventbus.memory")
_YIELD_EVERY = 128  # hand the loop to other tasks at least this often while messages are ready
_FAILURE_PAUSE = 0.05  # after ``deliver`` raised, before the next message


class MemorySubscription:
    """Pumps messages from its queue to ``deliver``, one at a time (no prefetch), or to
    ``deliver_many`` in lists of at most what the bus said it can take (no prefetch either).

    Each taken message is leased to this subscription until settled, its ``ack_wait`` elapses, or
    the subscription closes; then it is redelivered with ``attempt + 1``.
    """

    def __init__(
        self,
        broker: MemoryBroker,
        queue: Queue,
        spec: SubscriptionSpec,
        deliver: Deliver | None,
        *,
        deliver_many: DeliverMany | None = None,
        faults: MemoryFaults,
        rng: random.Random,
        limits: Limits,
        on_close: Callable[[MemorySubscription], None],
    ) -> None:
        self.spec = spec
        self._broker = broker
        self._queue = queue
        self._deliver = deliver
        self._deliver_many = deliver_many
        self._consumer = Consumer(spec.ack_wait, faults, rng, limits)
        self._slow = faults.slow
        self._slow_delay = faults.slow_delay
        self._on_close = on_close
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<MemorySubscription {self.spec.channel!r} group={self.spec.group!r} {state}>"

    @property
    def queue(self) -> Queue:
        return self._queue

    @property
    def closed(self) -> bool:
        return self._closed

    def start(self) -> None:
        self._queue.attach(self._consumer)
        pump = self._pump() if self._deliver_many is None else self._pump_batches()
        self._task = asyncio.get_running_loop().create_task(
            pump, name=f"eventbus-memory-pump:{self.spec.channel}"
        )

    async def stop(self) -> None:
        """Stop taking messages; deliveries already handed out can still be settled."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        if task is not asyncio.current_task():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Stop receiving; unsettled messages go back to the queue with attempt + 1.

        A fan-out subscription's queue is deleted with it; a group queue stays, durable.
        """
        if self._closed:
            return
        self._closed = True
        await self.stop()
        if self._queue.group is None:
            self._broker.remove_queue(self._queue)  # a fan-out queue goes with its subscriber
        else:
            self._queue.detach(self._consumer)
        self._on_close(self)

    def ack_many(self, deliveries: Sequence[Delivery]) -> None:
        """Ack handed-over deliveries of this subscription (``BatchSubscription``)."""
        ack_many(self._queue, deliveries)  # type: ignore[arg-type]  # ours: MemoryDelivery

    async def _pump(self) -> None:
        queue, consumer, deliver = self._queue, self._consumer, self._deliver
        assert deliver is not None
        take, rng, slow = queue.take, consumer.rng, self._slow
        streak = 0
        while True:
            delivery = take(consumer)
            if delivery is None:
                streak = 0
                await queue.wait_ready()
                continue
            if slow and rng.random() < slow:
                self._broker.stats.slow_injected += 1
                await asyncio.sleep(self._slow_delay)
                if not delivery.leased:
                    continue  # expired while held back: it is queued again
            try:
                await deliver(delivery)
            except Exception:
                _log.exception("deliver failed on %r; the message will be redelivered", self)
                if delivery.leased:
                    queue.requeue(delivery)
                await asyncio.sleep(_FAILURE_PAUSE)
            streak += 1
            if streak >= _YIELD_EVERY:
                streak = 0
                await asyncio.sleep(0)

    async def _pump_batches(self) -> None:
        queue, consumer, deliver_many = self._queue, self._consumer, self._deliver_many
        assert deliver_many is not None
        # The slow fault holds deliveries back one by one: then the lists are of one message.
        most = 1 if self._slow else self.spec.max_in_flight
        room = most
        streak = 0
        while True:
            batch = take_many(queue, consumer, min(room, most) or 1)
            if not batch:
                streak = 0
                await queue.wait_ready()
                continue
            if self._slow and consumer.rng.random() < self._slow:
                self._broker.stats.slow_injected += 1
                await asyncio.sleep(self._slow_delay)
                batch = [d for d in batch if d.leased]  # the expired ones are queued again
                if not batch:
                    continue
            try:
                room = await deliver_many(batch)
            except Exception:
                _log.exception("deliver failed on %r; the messages will be redelivered", self)
                self._requeue_leased(batch)
                await asyncio.sleep(_FAILURE_PAUSE)
            streak += len(batch)
            if streak >= _YIELD_EVERY:
                streak = 0
                await asyncio.sleep(0)

    def _requeue_leased(self, batch: list[MemoryDelivery]) -> None:
        for delivery in reversed(batch):  # requeue puts each in front: keep their order
            if delivery.leased:
                self._queue.requeue(delivery)
