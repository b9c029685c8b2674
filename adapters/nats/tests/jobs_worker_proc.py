"""A job worker process for the jobs kill test: python jobs_worker_proc.py URL TYPE STORE OUT PREFIX.

Runs ``Jobs`` workers for ``TYPE`` on JetStream with the status in the SQLite file ``STORE``,
prints ``ready`` once subscribed, and appends ``<job id> <attempt>`` to ``OUT`` for each run
that gets through its work (flushed before the handler returns: the side effect a SIGKILL
cannot undo). Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

from eventbus import Event, EventBus, Jobs, SqliteJobStore, current_job


async def main(url: str, event_type: str, store_path: str, prefix: str, sink: TextIO) -> None:
    async with EventBus(url) as bus:
        store = SqliteJobStore(store_path)
        jobs = Jobs(bus, store, max_attempts=5, events_prefix=prefix)

        async def work(event: Event[Any]) -> dict[str, int]:
            job = current_job()
            await job.progress(0.5)
            await asyncio.sleep(0.3)  # keep several jobs running at any moment
            sink.write(f"{job.id} {job.attempt}\n")
            sink.flush()
            return {"attempt": job.attempt}

        await jobs.worker(event_type, work, max_in_flight=8, ack_wait=1.0)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with open(sys.argv[4], "a", buffering=1) as out:
        asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[5], out))
