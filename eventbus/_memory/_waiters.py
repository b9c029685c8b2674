"""Parking tasks on futures: one Future per waiting task, woken one at a time."""

from __future__ import annotations

import asyncio
from collections import deque

__all__ = ["Waiters", "park", "wake_one"]

Waiters = deque[asyncio.Future[None]]


async def park(waiters: Waiters) -> None:
    """Wait until :func:`wake_one` picks this task."""
    future = asyncio.get_running_loop().create_future()
    waiters.append(future)
    try:
        await future
    except asyncio.CancelledError:
        if future.done() and not future.cancelled():
            wake_one(waiters)  # woken, then cancelled: pass the wake-up on
        elif future in waiters:  # wake_one may have dropped it already (cancelled: done)
            waiters.remove(future)
        raise


def wake_one(waiters: Waiters) -> None:
    """Wake the longest-waiting task still waiting, if any."""
    while waiters:
        future = waiters.popleft()
        if not future.done():
            try:
                future.set_result(None)
            except RuntimeError:  # its event loop is closed: a task left behind
                continue
            return
