"""Idempotency overhead per event, for each store, against no store, measured in the same run.

The same memory:// bus, the same no-op handler, one consumer group, ``max_in_flight`` 64:
publish N events, wait until every one is handled. Each figure is the best of five rounds, in
µs per event end to end (publish + deliver + claim + handler + commit + ack), with the overhead
over no store and the ratio to no store. Redis and PostgreSQL servers are started on free ports
for the run (the Debian packages must be installed), unless ``--redis URL`` / ``--postgres URL``
name running ones. Nothing is asserted.

    python bench/idempotency.py [--events N] [--runs R] [--redis URL] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from servers import PostgresServer, RedisServer

from eventbus import (
    Event,
    EventBus,
    Idempotency,
    IdempotencyStore,
    MemoryIdempotencyStore,
    PostgresIdempotencyStore,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
)


async def run_once(make_store: Callable[[], IdempotencyStore | None], n: int, tag: str) -> float:
    store = make_store()
    middleware = [Idempotency(store)] if store is not None else []
    done = asyncio.get_running_loop().create_future()
    handled = 0

    async def handler(event: Event[Any]) -> None:
        nonlocal handled
        handled += 1
        if handled == n:
            done.set_result(None)

    events = [Event(type="bench.idem", source="/bench", id=f"{tag}-{i}") for i in range(n)]
    async with EventBus(middleware=middleware) as bus:
        await bus.subscribe("bench.idem", handler, group="bench")
        if store is not None:  # connect and create tables outside the timing
            await store.claim(f"warm-{tag}", "w", 1)
        start = time.perf_counter()
        for i in range(0, n, 500):
            await bus.publish_many(events[i : i + 500])
        await done
        elapsed = time.perf_counter() - start
    if store is not None:
        await store.close()
    return elapsed / n * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--redis")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="eventbus-bench-"))
    servers: list[Any] = []
    redis_url, pg_url = args.redis, args.postgres
    if redis_url is None:
        (workdir / "redis").mkdir()
        servers.append(RedisServer(workdir / "redis").start())
        redis_url = servers[-1].url
    if pg_url is None:
        servers.append(PostgresServer().start())
        pg_url = servers[-1].url()
    stores: dict[str, Callable[[], IdempotencyStore | None]] = {
        "no store": lambda: None,
        "memory": MemoryIdempotencyStore,
        "sqlite": lambda: SqliteIdempotencyStore(workdir / "idem.db"),
        "redis": lambda: RedisIdempotencyStore(redis_url),
        "postgres": lambda: PostgresIdempotencyStore(pg_url),
    }
    try:
        # Rounds visit every store in turn, so a burst of load elsewhere on the machine hits
        # them alike; each store keeps its best round.
        results = dict.fromkeys(stores, float("inf"))
        for r in range(args.runs):
            for name, make in stores.items():
                us = asyncio.run(run_once(make, args.events, f"{name}-{r}"))
                results[name] = min(results[name], us)
        base = results["no store"]
        print(f"idempotency overhead, {args.events} events, memory:// bus, best of {args.runs}")
        print(f"{'store':<10}{'µs/event':>10}{'overhead µs':>13}{'ratio':>8}")
        for name, us in results.items():
            print(f"{name:<10}{us:>10.1f}{us - base:>13.1f}{us / base:>7.1f}x")
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
