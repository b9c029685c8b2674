"""Consumer processes for the reliability scenarios: python reliability_proc.py MODE URL TYPE ...

``exactly-once URL TYPE DB``: consumes group ``workers`` behind ``Idempotency`` with a SQLite
store in ``DB``; each handler records its side effect (a row of ``effects``) with
``store.commit_with``, in the transaction that commits the idempotency key. Runs until killed.

``drain URL TYPE OUT``: consumes group ``workers`` (no store); each handler appends
``start <id> <attempt>``, sleeps 20 ms, appends ``done <id> <attempt>`` to ``OUT``. On SIGTERM it
closes the bus (stop intake, let in-flight handlers finish, ack them), prints ``drained True``
and exits 0.

Both print ``ready`` once listening.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from pathlib import Path
from typing import Any

from eventbus import ConsumeContext, Event, EventBus, Idempotency, SqliteIdempotencyStore


async def exactly_once(url: str, event_type: str, db: str) -> None:
    store = SqliteIdempotencyStore(db)
    pid = os.getpid()

    async def handle(event: Event[Any]) -> None:
        def record(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO effects (event_id, pid) VALUES (?, ?)", (event.id, pid))

        await store.commit_with(record)

    bus = EventBus(url, middleware=[Idempotency(store, lease=2.0)])
    async with bus:
        await bus.subscribe(event_type, handle, group="workers", max_in_flight=32, ack_wait=2.0)
        print("ready", flush=True)
        await asyncio.Event().wait()


async def drain(url: str, event_type: str, out: Path) -> None:
    sink = out.open("a", buffering=1)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def handle(event: Event[Any], context: ConsumeContext) -> None:
        sink.write(f"start {event.id} {context.attempt}\n")
        await asyncio.sleep(0.02)
        sink.write(f"done {event.id} {context.attempt}\n")

    bus = EventBus(url, drain_timeout=20.0)
    await bus.open()
    await bus.subscribe(event_type, handle, group="workers", max_in_flight=16, ack_wait=5.0)
    print("ready", flush=True)
    await stop.wait()
    drained = await bus.close()
    sink.close()
    print(f"drained {drained}", flush=True)


if __name__ == "__main__":
    mode, url, event_type, target = sys.argv[1:5]
    if mode == "exactly-once":
        asyncio.run(exactly_once(url, event_type, target))
    else:
        asyncio.run(drain(url, event_type, Path(target)))
