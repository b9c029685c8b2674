"""Parking and waking tasks on the in-memory broker's bounded queues."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest

from eventbus._memory._waiters import Waiters, park, wake_one


async def test_a_cancelled_waiter_already_dropped_by_wake_one_cancels_cleanly() -> None:
    """A task cancelled while parked (closing a subscription) whose future wake_one has already
    dropped must end with CancelledError, not ValueError from the deque."""
    waiters: Waiters = deque()
    task = asyncio.get_running_loop().create_task(park(waiters))
    await asyncio.sleep(0)
    assert len(waiters) == 1
    task.cancel()  # cancels the parked future at once
    wake_one(waiters)  # finds it done and drops it
    assert not waiters
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_wake_one_wakes_the_longest_waiting() -> None:
    waiters: Waiters = deque()
    order: list[int] = []

    async def wait(n: int) -> None:
        await park(waiters)
        order.append(n)

    tasks = [asyncio.get_running_loop().create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)
    for _ in range(3):
        wake_one(waiters)
        await asyncio.sleep(0)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2]
