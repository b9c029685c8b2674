"""A bounded worker pool that turns adapter pushes into at most N concurrent handler runs.

``put`` returns as soon as the item is queued and blocks while N items are held (queued or
being processed): that is the backpressure the adapter's pump feels. Workers are started
lazily and woken one at a time in a chain, so a burst of fast handlers is processed by few
workers without a task switch per item.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

__all__ = ["WorkerPool"]

T = TypeVar("T")
log = logging.getLogger("eventbus")


class WorkerPool(Generic[T]):
    def __init__(
        self,
        size: int,
        process: Callable[[T], Awaitable[None]],
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

    def offer(self, item: T) -> bool:
        """Queue ``item`` now if there is room (what ``put`` does without waiting); else False."""
        if self._held >= self._size:
            return False
        self._held += 1
        self._pending.append(item)
        if not self._kicked:
            self._kick()
        return True

    async def put(self, item: T) -> None:
        while self._held >= self._size:
            space = self._space
            if space is None or space.done():
                space = self._space = asyncio.get_running_loop().create_future()
            await space
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
                try:
                    await self._process(item)
                except Exception:  # the pipeline settles messages itself; never lose a worker
                    log.exception("eventbus: unexpected error processing a delivery")
                finally:
                    if busy is not None:
                        busy.pop(item, None)
                    self._release()
            if self._closed:
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._idle.append(waiter)
            await waiter

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
