"""How a subscription takes deliveries from its adapter, and acks handled ones in batches.

``deliver`` (one message) and ``deliver_many`` (a list, for a ``BatchingAdapter``) are what the
adapter awaits: while the subscription is taking and its worker pool has room they queue into
the pool and return an already finished future (no coroutine per message); paused, closing or
full, they wait. ``deliver_many``'s result is the room left, so the adapter leases no more than
the pool can take.

Batched acks: the consume pipeline appends a handled delivery to ``acks``; the first of a loop
turn schedules one ``flush`` that acks them all with the adapter's ``ack_many``
and only then frees their pool slots, so ``max_in_flight`` counts every unsettled message and a
drain waits for the flush.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

from eventbus._adapter._contract import Delivery
from eventbus._bus._pool import WorkerPool

__all__ = ["Intake"]

log = logging.getLogger("eventbus")


class Intake:
    """The intake state of one subscription: taking, paused, closing, closed."""

    def __init__(self, pool: WorkerPool[Delivery]) -> None:
        self.pool = pool
        self.taking = False  # started, not paused, not closing: the fast paths may take
        self.closing = False
        self.closed = asyncio.Event()
        self.running = asyncio.Event()  # cleared while paused
        self.running.set()
        #: Set when the adapter settles batches (``BatchSubscription.ack_many``).
        self.ack_many: Callable[[Sequence[Delivery]], None] | None = None
        #: Handled deliveries waiting for the next ``flush``.
        self.acks: list[Delivery] = []
        self._ready: asyncio.Future[None] | None = None  # done: what a fast ``deliver`` returns
        self._rooms: dict[int, asyncio.Future[int]] = {}  # done, by result: fast deliver_many

    def start(self) -> None:
        """Called on the event loop when the subscription starts listening."""
        self._ready = asyncio.get_running_loop().create_future()
        self._ready.set_result(None)
        self._rooms = {}
        self.taking = not self.closing and self.running.is_set()

    def pause(self) -> None:
        self.running.clear()
        self.taking = False

    def resume(self) -> None:
        self.running.set()
        self.taking = not self.closing and self._ready is not None

    def begin_close(self) -> None:
        self.closing = True
        self.taking = False
        self.running.set()  # a paused pump must see the close

    # -- one message ------------------------------------------------------------------------------

    def deliver(self, delivery: Delivery) -> Awaitable[None]:
        """What the adapter awaits: done at once when the pool has room (no coroutine is made
        for the usual delivery), else ``_deliver_waiting``."""
        ready = self._ready
        if self.taking and ready is not None and self.pool.offer(delivery):
            return ready
        return self._deliver_waiting(delivery)

    async def _deliver_waiting(self, delivery: Delivery) -> None:
        if not self.running.is_set():
            await self.running.wait()
        if self.closing:
            await self.closed.wait()  # the adapter gets the message back when we stop listening
            return
        await self.pool.put(delivery)

    # -- lists (the batch contract) ---------------------------------------------------------------

    def deliver_many(self, deliveries: Sequence[Delivery]) -> Awaitable[int]:
        """What a batching adapter awaits (see ``DeliverMany``): the pool takes the list with
        one call; the result, how many more fit, is a finished future when there is room."""
        pool = self.pool
        taken = pool.offer_many(deliveries) if self.taking else 0
        if taken == len(deliveries):
            room = pool.room
            if room:
                done = self._rooms.get(room)
                if done is None:
                    done = self._rooms[room] = asyncio.get_running_loop().create_future()
                    done.set_result(room)
                return done
        return self._deliver_many_waiting(deliveries[taken:])  # paused, closing or full

    async def _deliver_many_waiting(self, rest: Sequence[Delivery]) -> int:
        pool = self.pool
        while True:
            if not self.running.is_set():
                await self.running.wait()
                continue
            if self.closing:
                # What the pool did not take goes back to the broker when we stop listening.
                await self.closed.wait()
                return 1
            if rest:
                rest = rest[pool.offer_many(rest) :]
            if not rest and pool.room:
                return pool.room
            await pool.wait_space()

    # -- batched acks -----------------------------------------------------------------------------

    def flush(self) -> None:
        """Ack the deliveries handled since the last flush with one call, then free their slots
        (scheduled with ``call_soon`` by the first of them, so a handler that waits never
        delays an ack: the flush runs as soon as the worker yields to the loop)."""
        acks, self.acks = self.acks, []
        try:
            if self.ack_many is not None:
                self.ack_many(acks)
        except Exception:
            log.exception("eventbus: acking %d handled messages failed", len(acks))
        finally:
            self.pool.release(len(acks))
