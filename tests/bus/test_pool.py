"""WorkerPool: ``offer`` (the no-wait hand-over the consumer's fast ``deliver`` uses) and ``put``
hold the same bound; tracked pools time exactly the items being processed."""

from __future__ import annotations

import asyncio

from eventbus._bus._pool import WorkerPool
from eventbus.testing import wait_until


async def test_offer_takes_items_while_there_is_room_and_put_waits_beyond() -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def process(item: int) -> None:
        await release.wait()
        done.append(item)

    pool: WorkerPool[int] = WorkerPool(2, process, name="t")
    assert pool.offer(1) is True
    assert pool.offer(2) is True
    assert pool.offer(3) is False  # full: the caller must wait (put)
    assert pool.held == 2
    waiting = asyncio.create_task(pool.put(3))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # put blocks while two items are held
    release.set()
    await waiting
    assert await pool.drain(5.0)
    assert sorted(done) == [1, 2, 3]
    assert pool.held == 0


async def test_a_tracked_pool_times_the_items_being_processed() -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def process(item: str) -> None:
        started.set()
        await release.wait()
        if item == "boom":
            raise RuntimeError("handler bug")

    pool: WorkerPool[str] = WorkerPool(4, process, name="t", track=True)
    assert pool.busy == {}
    assert pool.offer("a")
    await started.wait()
    assert pool.busy is not None and list(pool.busy) == ["a"]
    assert pool.offer("boom")
    await asyncio.sleep(0.01)
    assert set(pool.busy) == {"a", "boom"}
    release.set()
    assert await pool.drain(5.0)
    assert pool.busy == {}  # removed after success and after an exception alike


async def test_an_untracked_pool_keeps_no_times() -> None:
    async def process(item: int) -> None:
        return None

    pool: WorkerPool[int] = WorkerPool(1, process, name="t")
    assert pool.offer(1)
    assert await pool.drain(5.0)
    assert pool.busy is None


async def test_offer_many_takes_what_fits_in_order_and_kept_items_hold_their_slot() -> None:
    release = asyncio.Event()
    done: list[int] = []

    async def process(item: int) -> bool:
        await release.wait()
        done.append(item)
        return item % 2 == 0  # even items stay held until released (as by a batched ack)

    pool: WorkerPool[int] = WorkerPool(3, process, name="t")
    assert pool.offer_many([1, 2, 3, 4, 5]) == 3  # room for three: the first three
    assert (pool.held, pool.room) == (3, 0)
    assert pool.offer_many([4, 5]) == 0
    release.set()
    await wait_until(lambda: len(done) == 3, what="three processed")
    assert pool.held == 1  # 2 is kept
    assert pool.offer_many([4, 5]) == 2
    await wait_until(lambda: len(done) == 5, what="five processed")
    assert sorted(done) == [1, 2, 3, 4, 5]
    assert pool.held == 2  # 2 and 4 returned True: still held
    pool.release(2)
    assert (pool.held, pool.room) == (0, 3)
    assert await pool.drain(5.0)
