"""A job worker on core NATS for the lease test: python jobs_lease_proc.py URL TYPE STORE OUT HOLD.

Runs ``Jobs`` workers for ``TYPE`` with the status in the SQLite file ``STORE`` and a 1 s lease,
prints ``ready`` once subscribed, appends ``<job id> <attempt>`` to ``OUT`` when a run starts,
then works ``HOLD`` seconds. Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

from eventbus import Event, EventBus, Jobs, SqliteJobStore, current_job


async def main(url: str, event_type: str, store_path: str, hold: float, sink: TextIO) -> None:
    async with EventBus(url) as bus:
        jobs = Jobs(bus, SqliteJobStore(store_path), lease=1.0, status_events=False)

        async def work(event: Event[Any]) -> dict[str, int]:
            job = current_job()
            sink.write(f"{job.id} {job.attempt}\n")
            sink.flush()
            await asyncio.sleep(hold)
            return {"attempt": job.attempt}

        await jobs.worker(event_type, work, max_in_flight=8)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with open(sys.argv[4], "a", buffering=1) as out:
        asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[5]), out))
