"""A slow consumer with max_in_flight while 1,000,000 events are published: memory stays bounded.

Publishing outpaces the handler; bounded queues make the publisher wait instead of buffering a
million messages. Target: peak RSS under 300 MB. Run: python bench/slow_consumer_rss.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _util import peak_rss_mb, verdict

from eventbus import Event, EventBus

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BATCH = 500


async def main() -> None:
    handled = 0
    done = asyncio.Event()
    baseline = peak_rss_mb()
    async with EventBus("memory://rss") as bus:

        async def slow(event: Event[dict[str, int]]) -> None:
            nonlocal handled
            await asyncio.sleep(0)  # yields on every event: slower than the publisher
            handled += 1
            if handled == N:
                done.set()

        sub = await bus.subscribe("rss.test", slow, max_in_flight=100)
        start = time.perf_counter()
        for i in range(0, N, BATCH):
            await bus.publish_many(
                Event(type="rss.test", source="/bench", data={"n": j})
                for j in range(i, min(N, i + BATCH))
            )
        await done.wait()
        elapsed = time.perf_counter() - start
        assert sub.stats.handled == N
    peak = peak_rss_mb()
    print(f"events published and handled: {N:,} in {elapsed:.1f} s ({N / elapsed:,.0f}/s)")
    print(f"peak RSS: {peak:.0f} MB (interpreter + imports before the run: {baseline:.0f} MB)")
    print(f"target < 300 MB: {verdict(peak < 300)}")


if __name__ == "__main__":
    asyncio.run(main())
