"""Idempotent consumption through the bus: duplicates skipped, failures released, claims shared
by real processes (two consumer processes, one store: SQLite file, Redis, PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from servers import PostgresServer, RedisServer

from eventbus import (
    ConfigurationError,
    ConsumeContext,
    Event,
    EventBus,
    Idempotency,
    MemoryIdempotencyStore,
    RetryPolicy,
    SqliteIdempotencyStore,
    current_claim,
)
from eventbus.testing import wait_until

FAST = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.02, jitter=0)
PROC = Path(__file__).with_name("idem_proc.py")


async def test_duplicate_deliveries_run_the_handler_once(memory_url: str) -> None:
    # The broker delivers 40% of messages twice and loses 30% of acks: at-least-once at its worst.
    url = f"{memory_url}?seed=7&duplicate=0.4&crash_before_ack=0.3"
    idem = Idempotency(MemoryIdempotencyStore())
    runs: Counter[str] = Counter()

    async def handle(event: Event[Any]) -> None:
        runs[event.id] += 1

    async with EventBus(url, middleware=[idem], retry=FAST) as bus:
        await bus.subscribe("dup.job", handle, group="g")
        events = [Event(type="dup.job", source="/t", data=i) for i in range(300)]
        await bus.publish_many(events)
        await wait_until(lambda: len(runs) == 300, what="every event handled")
        await asyncio.sleep(0.2)
    assert set(runs.values()) == {1}
    assert idem.stats.duplicates > 50  # the injected duplicates and redeliveries were skipped


async def test_a_failed_handler_releases_its_claim_so_the_retry_runs() -> None:
    store = MemoryIdempotencyStore()
    attempts: list[int] = []

    async def flaky(event: Event[Any], context: ConsumeContext) -> None:
        attempts.append(context.attempt)
        assert current_claim() is not None
        if context.attempt < 3:
            raise RuntimeError("downstream timeout")

    # No publisher dedupe here, so the second publish of e1 reaches the consumer.
    async with EventBus(
        "memory://?dedupe_window=0", middleware=[Idempotency(store)], retry=FAST
    ) as bus:
        sub = await bus.subscribe("flaky.job", flaky, group="g")
        await bus.publish(Event(type="flaky.job", source="/t", id="e1"))
        await wait_until(lambda: sub.stats.handled == 1, what="handled after retries")
        # The event is done now: the same event again is acked without running the handler.
        await bus.publish(Event(type="flaky.job", source="/t", id="e1"))
        await wait_until(lambda: sub.stats.handled == 2, what="duplicate acked")
    assert attempts == [1, 2, 3]
    assert current_claim() is None


async def test_keys_are_scoped_per_group_and_per_fanout_subscription() -> None:
    idem = Idempotency(MemoryIdempotencyStore())
    seen: Counter[str] = Counter()

    def handler(name: str) -> Any:
        async def handle(event: Event[Any]) -> None:
            seen[name] += 1

        return handle

    async with EventBus(middleware=[idem]) as bus:
        subs = [
            bus.subscribe("scope.job", handler("billing"), group="billing"),
            bus.subscribe("scope.job", handler("shipping"), group="shipping"),
            bus.subscribe("scope.job", handler("fanout")),
        ]
        for sub in subs:
            await sub
        await bus.publish(Event(type="scope.job", source="/t", id="same"))
        await wait_until(lambda: sum(seen.values()) == 3, what="each subscription once")
    assert seen == {"billing": 1, "shipping": 1, "fanout": 1}


async def test_custom_key_and_per_subscription_middleware() -> None:
    idem = Idempotency(MemoryIdempotencyStore(), key=lambda e: str(e.data["order"]))
    handled: list[Any] = []

    async def handle(event: Event[Any]) -> None:
        handled.append(event.data)

    async with EventBus() as bus:
        sub = await bus.subscribe("custom.key", handle, group="g", middleware=[idem])
        # Two events with different ids but the same business key: handled once.
        await bus.publish(Event(type="custom.key", source="/t", data={"order": 1, "try": 1}))
        await bus.publish(Event(type="custom.key", source="/t", data={"order": 1, "try": 2}))
        await bus.publish(Event(type="custom.key", source="/t", data={"order": 2, "try": 1}))
        await wait_until(lambda: sub.stats.handled == 3, what="three settled")
    assert handled == [{"order": 1, "try": 1}, {"order": 2, "try": 1}]
    assert idem.key_for(
        Event(type="t", source="/s", data={"order": 5}),
        ConsumeContext("c", "g", 1, "t"),
    ).endswith("5")


async def test_commit_with_writes_the_side_effect_and_the_key_together(tmp_path: Path) -> None:
    store = SqliteIdempotencyStore(tmp_path / "shop.db")
    fail_once = {"o-2"}

    async def ship(event: Event[Any]) -> None:
        def record(conn: Any) -> None:
            conn.execute("CREATE TABLE IF NOT EXISTS shipped (id TEXT)")
            conn.execute("INSERT INTO shipped VALUES (?)", (event.id,))
            if event.id in fail_once:
                fail_once.discard(event.id)
                raise RuntimeError("crash inside the transaction")

        await store.commit_with(record)

    async with EventBus(middleware=[Idempotency(store)], retry=FAST) as bus:
        sub = await bus.subscribe("ship.order", ship, group="g")
        for i in (1, 2, 3):
            await bus.publish(Event(type="ship.order", source="/t", id=f"o-{i}"))
        await wait_until(lambda: sub.stats.handled == 3, what="three shipped")

    def rows(conn: Any) -> list[str]:
        return [r[0] for r in conn.execute("SELECT id FROM shipped ORDER BY id")]

    assert await store._worker.run(rows) == ["o-1", "o-2", "o-3"]  # o-2's first try rolled back
    with pytest.raises(ConfigurationError, match="commit_with must be called"):
        await store.commit_with(rows)
    await store.close()


def test_idempotency_rejects_what_is_not_a_store() -> None:
    with pytest.raises(ConfigurationError, match="must implement IdempotencyStore"):
        Idempotency(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="lease must be > 0"):
        Idempotency(MemoryIdempotencyStore(), lease=0)


@pytest.mark.parametrize("kind", ["sqlite", "redis", "postgres"])
def test_two_processes_receiving_the_same_events_run_each_handler_once(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        target = str(tmp_path / "shared.db")
    elif kind == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        target = server.url
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        target = pg.create_database(f"race_{uuid.uuid4().hex[:8]}")
    n, out = 150, tmp_path / "runs.txt"
    procs = [
        subprocess.Popen(
            [sys.executable, str(PROC), kind, target, str(n), str(out)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        stats = []
        for proc in procs:
            stdout, _ = proc.communicate(timeout=60)
            assert proc.returncode == 0
            stats.append(json.loads(stdout.strip().splitlines()[-1]))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    runs = Counter(line.split()[0] for line in out.read_text().splitlines())
    assert len(runs) == n and set(runs.values()) == {1}, "a handler ran twice or never"
    assert sum(s["claimed"] for s in stats) == n
    assert sum(s["duplicates"] for s in stats) == n  # each event skipped by the other process
