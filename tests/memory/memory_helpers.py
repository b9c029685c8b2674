"""Helpers for the memory adapter tests: message factory and a recording deliver callback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from eventbus._adapter._contract import Delivery
from eventbus._wire._message import Message

Handler = Callable[[Delivery], Awaitable[None]]


def msg(body: str, *, key: str | None = None, dedupe_id: str | None = None) -> Message:
    return Message({"ce-id": body}, body.encode(), key=key, dedupe_id=dedupe_id)


class Inbox:
    """A ``deliver`` callback that records every delivery (and its time), then settles it.

    ``settle`` decides what to do with each delivery; by default it acks. Pass ``None`` to leave
    deliveries unsettled.
    """

    def __init__(self, settle: Handler | None = None, *, ack: bool = True) -> None:
        self.deliveries: list[Delivery] = []
        self.times: list[float] = []
        self._settle = settle
        self._ack = ack
        self._changed = asyncio.Event()

    async def __call__(self, delivery: Delivery) -> None:
        self.deliveries.append(delivery)
        self.times.append(time.monotonic())
        self._changed.set()
        if self._settle is not None:
            await self._settle(delivery)
        elif self._ack:
            await delivery.ack()

    @property
    def bodies(self) -> list[str]:
        return [d.message.body.decode() for d in self.deliveries]

    @property
    def attempts(self) -> list[int]:
        return [d.attempt for d in self.deliveries]

    async def wait_for(self, count: int, within: float = 2.0) -> list[Delivery]:
        """Wait until at least ``count`` deliveries arrived; fail the test after ``within`` s."""
        async with asyncio.timeout(within):
            while len(self.deliveries) < count:
                self._changed.clear()
                await self._changed.wait()
        return self.deliveries

    async def stays_at(self, count: int, wait: float = 0.05) -> bool:
        """True if no more than ``count`` deliveries arrive within ``wait`` seconds."""
        await asyncio.sleep(wait)
        return len(self.deliveries) == count


async def eventually(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``predicate`` until it holds; fail the test after ``within`` seconds."""
    step = 0.005
    for _ in range(int(within / step)):
        if predicate():
            return
        await asyncio.sleep(step)
    raise AssertionError(f"condition still false after {within} s")


async def settle_all() -> None:
    """Let pumps and callbacks run until nothing is left to do right now."""
    for _ in range(5):
        await asyncio.sleep(0)
