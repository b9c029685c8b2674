"""In-memory publish -> handler throughput with typed data decoding, against an asyncio.Queue floor.

The floor moves the same header dict and body bytes through an asyncio.Queue and decodes them
into the same Struct: the least work any in-process bus must do. Targets: >= 250,000 events/s
and >= 0.4x the floor. Run: python bench/throughput.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import msgspec
from _util import best_of, verdict

from eventbus import Event, EventBus, encode

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
BATCH = 1_000


class Order(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int


def make_events() -> list[Event[Order]]:
    return [
        Event(
            type="bench.order.placed",
            source="/bench",
            data=Order(f"o-{i}", "ada", i),
        )
        for i in range(N)
    ]


async def floor_run(events: list[Event[Order]]) -> float:
    messages = [encode(e, "ce-headers") for e in events]
    decoder = msgspec.json.Decoder(Order)
    queue: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue()
    done = asyncio.Event()
    count = 0

    async def consumer() -> None:
        nonlocal count
        while True:
            headers, body = await queue.get()
            _ = (headers["ce-id"], headers["ce-type"], decoder.decode(body))
            count += 1
            if count == N:
                done.set()

    task = asyncio.create_task(consumer())
    start = time.perf_counter()
    for m in messages:
        await queue.put((dict(m.headers), m.body))
    await done.wait()
    elapsed = time.perf_counter() - start
    task.cancel()
    return N / elapsed


async def bus_run(events: list[Event[Order]], name: str) -> float:
    count = 0
    done = asyncio.Event()
    async with EventBus(f"memory://{name}") as bus:

        async def handler(event: Event[Order]) -> None:
            nonlocal count
            count += 1
            if count == N:
                done.set()

        await bus.subscribe("bench.order.placed", handler, max_in_flight=256)
        start = time.perf_counter()
        for i in range(0, N, BATCH):
            await bus.publish_many(events[i : i + BATCH])
        await done.wait()
        elapsed = time.perf_counter() - start
    return N / elapsed


def main() -> None:
    events = make_events()
    floor = best_of(lambda: asyncio.run(floor_run(events)))
    runs = iter(range(100))
    ours = best_of(lambda: asyncio.run(bus_run(events, f"bench-{next(runs)}")))
    ratio = ours / floor
    print(f"events: {N:,}, small JSON payload decoded into a msgspec Struct")
    print(f"asyncio.Queue floor : {floor:12,.0f} events/s")
    print(f"eventbus memory://  : {ours:12,.0f} events/s (publish_many batches of {BATCH})")
    print(f"ratio to floor      : {ratio:.2f}x")
    print(f"target >= 250,000/s : {verdict(ours >= 250_000)}")
    print(f"target >= 0.4x floor: {verdict(ratio >= 0.4)}")


if __name__ == "__main__":
    main()
