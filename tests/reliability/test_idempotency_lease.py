"""The claim lease is renewed while a slow handler runs; PostgreSQL's commit_with writes the side
effect and the key in one transaction and refuses (ClaimLostError) once the claim is lost."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import psycopg

from eventbus import (
    ClaimLostError,
    Event,
    EventBus,
    Idempotency,
    MemoryIdempotencyStore,
    PostgresIdempotencyStore,
    RetryPolicy,
    current_claim,
)
from eventbus.testing import wait_until

FAST = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.02, jitter=0)


async def test_a_handler_longer_than_the_lease_keeps_its_claim() -> None:
    """Two fan-out subscribers of one pattern share keys. The first to claim an event runs a
    handler four leases long; the other waits. The claim is renewed every third of the lease,
    so the waiting worker never takes the key over: the handler runs once."""
    lease = 0.3
    store = MemoryIdempotencyStore()
    broker = f"memory://lease-{uuid.uuid4().hex[:12]}"
    runs: list[str] = []
    a = EventBus(broker, middleware=[Idempotency(store, lease=lease)], retry=FAST)
    b = EventBus(broker, middleware=[Idempotency(store, lease=lease)], retry=FAST)
    waiting = [mw for bus in (a, b) for mw in bus._middleware if isinstance(mw, Idempotency)]
    async with a, b:

        async def slow(event: Event[Any]) -> None:
            runs.append(event.id)
            await wait_until(
                lambda: sum(mw.stats.waited for mw in waiting) >= 1, what="the other worker"
            )
            await asyncio.sleep(4 * lease)  # four leases: expired three times over without renewal

        sub_a = await a.subscribe("slow.job", slow)
        sub_b = await b.subscribe("slow.job", slow)
        event = Event(type="slow.job", source="/t")
        await a.publish(event)
        await wait_until(
            lambda: sub_a.stats.handled + sub_b.stats.handled == 2, timeout=20, what="both acks"
        )
    assert runs == [event.id], "the claim expired while its handler ran; another worker ran it"
    assert sum(mw.stats.duplicates for mw in waiting) == 1


# -- PostgreSQL commit_with --------------------------------------------------------------------


async def _create_table(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("CREATE TABLE shipped (id TEXT PRIMARY KEY)")
        await conn.commit()


async def _rows(url: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute("SELECT id FROM shipped ORDER BY id")
        return [row[0] for row in await cur.fetchall()]


async def test_postgres_commit_with_writes_the_side_effect_and_the_key_together(
    postgres_url: str,
) -> None:
    await _create_table(postgres_url)
    store = PostgresIdempotencyStore(postgres_url)
    fail_once = {"o-2"}

    async def ship(event: Event[Any]) -> None:
        async def record(conn: Any) -> None:
            await conn.execute("INSERT INTO shipped VALUES (%s)", (event.id,))
            if event.id in fail_once:
                fail_once.discard(event.id)
                raise RuntimeError("crash inside the transaction")

        await store.commit_with(record)

    bus = EventBus("memory://?dedupe_window=0", middleware=[Idempotency(store)], retry=FAST)
    async with bus:
        sub = await bus.subscribe("ship.order", ship, group="g")
        for i in (1, 2, 3):
            await bus.publish(Event(type="ship.order", source="/t", id=f"o-{i}"))
        await wait_until(lambda: sub.stats.handled == 3, timeout=20, what="three shipped")
        # A redelivered event is a duplicate: the key was committed with the side effect.
        await bus.publish(Event(type="ship.order", source="/t", id="o-1"))
        await wait_until(lambda: sub.stats.received == 5, what="the duplicate")
    assert await _rows(postgres_url) == ["o-1", "o-2", "o-3"]  # o-2's first try rolled back
    assert sub.stats.retried == 1
    await store.close()


async def test_postgres_commit_with_refuses_a_lost_claim(postgres_url: str) -> None:
    """Another worker took the key over (its lease ran out): commit_with raises ClaimLostError
    and writes nothing; once that worker committed, the redelivery is a duplicate."""
    await _create_table(postgres_url)
    store = PostgresIdempotencyStore(postgres_url)
    errors: list[BaseException] = []
    wrote: list[str] = []

    async def ship(event: Event[Any]) -> None:
        claim = current_claim()
        assert claim is not None
        if not errors:  # the first attempt loses its claim to another worker
            await store.release(claim.key, claim.owner)
            assert (await store.claim(claim.key, "other-worker", 30.0)).name == "CLAIMED"

        async def record(conn: Any) -> None:
            wrote.append(event.id)
            await conn.execute("INSERT INTO shipped VALUES (%s)", (event.id,))

        try:
            await store.commit_with(record)
        except ClaimLostError as exc:
            errors.append(exc)
            await store.commit(claim.key, "other-worker")  # the other worker finishes it
            raise

    async with EventBus(middleware=[Idempotency(store)], retry=FAST) as bus:
        sub = await bus.subscribe("ship.order", ship, group="g")
        await bus.publish(Event(type="ship.order", source="/t", id="o-9"))
        await wait_until(lambda: sub.stats.handled == 1, timeout=20, what="the duplicate ack")
    assert len(errors) == 1 and "was lost" in str(errors[0])
    assert wrote == [], "commit_with ran the work although the claim was lost"
    assert await _rows(postgres_url) == []
    await store.close()
