"""A group member in its own process, for the rebalance and kill tests (not a test module).

Usage: python kafka_consumer_proc.py URL CHANNEL OUTFILE. Appends each handled event's data to
OUTFILE (one line each, flushed before the handler returns), prints "ready" once subscribed,
runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from eventbus import Event, EventBus


async def main(url: str, channel: str, out: TextIO) -> None:
    async def handle(event: Event[int]) -> None:
        await asyncio.sleep(0.2)  # slow enough that the stream outlasts the joins
        out.write(f"{event.data}\n")
        out.flush()

    async with EventBus(url) as bus:
        await bus.subscribe(channel, handle, group="g", max_in_flight=4)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with open(sys.argv[3], "a", buffering=1) as handled:
        asyncio.run(main(sys.argv[1], sys.argv[2], handled))
