"""A bounded worker pool that turns adapter pushes into at most N concurrent handler runs.

``put`` returns as soon as the item is queued and blocks while N items are held (queued or
being processed): that is the backpressure the adapter's pump feels. Workers are started
lazily and woken one at a time in a chain, so a burst of fast handlers is processed by few
workers without a task switch per item.

Batches: ``offer_many`` queues as many items of a list as there is room for with one call.
``process`` may return True to keep its item held after it returns (the caller settles it
later, e.g. with a batched ack) and then gives the slot back with ``release``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

__all__ = ["WorkerPool"]

T = TypeVar("T")
log = logging.getLogger("eventbus")


class WorkerPool(Generic[T]):
    def __init__(
        self,
        size: int,
        process: Callable[[T], Awaitable[bool | None]],
        name: str,
        *,
        track: bool = False,
    ) -> None:
        self._size = size
        self._process = process
        self._name = name
        self._pending: deque[T] = deque()
        self._held = 0
        self._idle: deque[asyncio.Future[None]] = deque()
        self._kicked = False
        self._space: asyncio.Future[None] | None = None
        self._empty: asyncio.Future[None] | None = None
        self._workers: set[asyncio.Task[None]] = set()
        self._closed = False
        #: Items still held when the last ``drain`` timed out (their messages are redelivered).
        self.abandoned = 0
        #: With ``track``: each item being processed and when (``time.monotonic()``) it started.
        self.busy: dict[T, float] | None = {} if track else None

    @property
    def held(self) -> int:
        return self._held

    @property
    def room(self) -> int:
        """How many more items can be queued now without waiting."""
        return self._size - self._held

    def offer(self, item: T) -> bool:
        """Queue ``item`` now if there is room (what ``put`` does without waiting); else False."""
        if self._held >= self._size:
            return False
        self._held += 1
        self._pending.append(item)
        if not self._kicked:
            self._kick()
        return True

    def offer_many(self, items: Sequence[T]) -> int:
        """Queue the first items of ``items`` there is room for now, in order; return how many."""
        n = min(len(items), self._size - self._held)
        if n <= 0:
            return 0
        self._held += n
        self._pending.extend(items if n == len(items) else items[:n])
        if not self._kicked:
            self._kick()
        return n

    async def wait_space(self) -> None:
        """Wait until an item is released (returns at once if there is room now)."""
        while self._held >= self._size:
            space = self._space
            if space is None or space.done():
                space = self._space = asyncio.get_running_loop().create_future()
            await space

    async def put(self, item: T) -> None:
        if self._held >= self._size:
            await self.wait_space()
        self._held += 1
        self._pending.append(item)
        self._kick()

    def _kick(self) -> None:
        if self._kicked:
            return
        while self._idle:
            waiter = self._idle.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._kicked = True
                return
        if len(self._workers) < self._size and not self._closed:
            task = asyncio.get_running_loop().create_task(self._work(), name=self._name)
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)
            self._kicked = True

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        pending, busy, clock = self._pending, self.busy, time.monotonic
        while True:
            self._kicked = False
            while pending:
                item = pending.popleft()
                if pending and not self._kicked:
                    self._kick()  # let another worker take the next item if this one blocks
                if busy is not None:
                    busy[item] = clock()
                kept = False
                try:
                    kept = await self._process(item) is True
                except Exception:  # the pipeline settles messages itself; never lose a worker
                    log.exception("eventbus: unexpected error processing a delivery")
                finally:
                    if busy is not None:
                        busy.pop(item, None)
                    if not kept:
                        self._release()
            if self._closed:
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._idle.append(waiter)
            await waiter

    def release(self, count: int) -> None:
        """Give back the slots of ``count`` items whose ``process`` returned True."""
        self._held -= count - 1
        self._release()

    def _release(self) -> None:
        self._held -= 1
        space = self._space
        if space is not None and not space.done():
            space.set_result(None)
        if self._held == 0:
            empty = self._empty
            if empty is not None and not empty.done():
                empty.set_result(None)

    async def drain(self, timeout: float | None) -> bool:
        """Wait until nothing is held; on timeout cancel the workers. True if drained."""
        drained = True
        if self._held:
            empty = self._empty
            if empty is None or empty.done():
                empty = self._empty = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(empty), timeout)
            except TimeoutError:
                drained = False
                self.abandoned = self._held
        await self.stop()
        return drained

    async def stop(self) -> None:
        self._closed = True
        for waiter in self._idle:
            if not waiter.done():
                waiter.set_result(None)
        workers = list(self._workers)
        for task in workers:
            task.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)
