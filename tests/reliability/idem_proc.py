"""One of two consumer processes racing for the same events: python idem_proc.py KIND TARGET N OUT.

Each process runs its own in-memory bus and publishes the same N events (same source and ids) to
itself, so both processes receive every event. Their handlers share one idempotency store
(``KIND``: sqlite, redis or postgres; ``TARGET``: the file or URL). It prints ``ready``, waits
for a line on stdin (so both start together), handles the events, appends
``<event id> <pid>`` to ``OUT`` for each handler run and prints its Idempotency stats as JSON.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

from eventbus import (
    Event,
    EventBus,
    Idempotency,
    IdempotencyStore,
    PostgresIdempotencyStore,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
)


def make_store(kind: str, target: str) -> IdempotencyStore:
    if kind == "sqlite":
        return SqliteIdempotencyStore(target)
    if kind == "redis":
        return RedisIdempotencyStore(target)
    return PostgresIdempotencyStore(target)


async def main(kind: str, target: str, n: int, out: Path) -> None:
    store = make_store(kind, target)
    idem = Idempotency(store, lease=10.0)

    async def handle(event: Event[Any]) -> None:
        await asyncio.sleep(0.005)
        line = f"{event.id} {os.getpid()}\n".encode()
        fd = os.open(out, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line)  # one short O_APPEND write per run: lines never interleave
        finally:
            os.close(fd)

    bus = EventBus("memory://", middleware=[idem])
    sub = bus.subscribe("race.job", handle, group="workers", max_in_flight=16)
    async with bus:
        await sub
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # "go": both processes start together
        await bus.publish_many(
            Event(type="race.job", source="/two-processes", id=f"job-{i}", data=i) for i in range(n)
        )
        while sub.stats.handled < n:  # noqa: ASYNC110 (stats have no event to wait on)
            await asyncio.sleep(0.01)
    await store.close()
    s = idem.stats
    print(json.dumps({"claimed": s.claimed, "duplicates": s.duplicates, "waited": s.waited}))


if __name__ == "__main__":
    kind, target, n, out = sys.argv[1:5]
    asyncio.run(main(kind, target, int(n), Path(out)))
