"""A consumer process for the kill test: python nats_consumer_proc.py URL TYPE GROUP OUT.

Subscribes ``GROUP`` to ``TYPE``, prints ``ready`` once listening, and appends one line
``<event id> <attempt>`` to ``OUT`` per handled event (flushed before the handler returns, so
the line is the side effect a SIGKILL cannot undo). Runs until killed.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

from eventbus import ConsumeContext, Event, EventBus


async def main(url: str, event_type: str, group: str, sink: TextIO) -> None:
    async with EventBus(url) as bus:

        async def handle(event: Event[Any], context: ConsumeContext) -> None:
            await asyncio.sleep(0.05)  # keep several messages in flight
            sink.write(f"{event.id} {context.attempt}\n")
            sink.flush()

        await bus.subscribe(event_type, handle, group=group, max_in_flight=8, ack_wait=1.0)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    with open(sys.argv[4], "a", buffering=1) as out:
        asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], out))
