"""The memory adapter alone: publish + deliver + ack of 200k messages through one group queue.

Prints messages/s for two shapes: one ``publish`` call per message and batches of 100, next to a
floor: an ``asyncio.Queue`` moving the same messages to a consumer that awaits an async no-op
"ack". Every message has a unique ``dedupe_id`` (as the bus sends them), so publisher dedupe is
part of the cost. Each figure is the best of three runs; nothing is asserted.
"""

from __future__ import annotations

import asyncio
import time

from eventbus._adapter._contract import Delivery, SubscriptionSpec
from eventbus._memory import MemoryAdapter
from eventbus._wire._message import Message

N = 200_000
HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "2f1c7c7e-5d4b-4c55-9d8e-0c4e1c2a9f11",
    "ce-source": "/bench/orders",
    "ce-type": "com.example.order.created",
    "ce-time": "2024-05-01T12:00:00Z",
    "content-type": "application/json",
}
BODY = b'{"order_id": 12345, "amount": "99.90", "currency": "EUR"}'


async def run(batch: int) -> float:
    adapter = MemoryAdapter()
    await adapter.connect()
    messages = [Message(HEADERS, BODY, dedupe_id=f"id-{i}") for i in range(N)]
    done = asyncio.get_running_loop().create_future()
    received = 0

    async def deliver(delivery: Delivery) -> None:
        nonlocal received
        await delivery.ack()
        received += 1
        if received == N:
            done.set_result(None)

    await adapter.subscribe(SubscriptionSpec("bench.orders", group="bench"), deliver)
    start = time.perf_counter()
    for i in range(0, N, batch):
        await adapter.publish("bench.orders", messages[i : i + batch])
        if i % 1000 == 0:
            await asyncio.sleep(0)  # let the consumer run alongside the producer
    await done
    elapsed = time.perf_counter() - start
    stats = adapter.broker.stats
    assert stats.acked == N
    assert adapter.broker.depth("bench.orders", "bench") == 0
    await adapter.close()
    return N / elapsed


async def floor() -> float:
    messages = [Message(HEADERS, BODY, dedupe_id=f"id-{i}") for i in range(N)]
    queue: asyncio.Queue[Message] = asyncio.Queue()
    done = asyncio.get_running_loop().create_future()

    async def ack() -> None:
        pass

    async def consume() -> None:
        for _ in range(N):
            await queue.get()
            await ack()
        done.set_result(None)

    task = asyncio.create_task(consume())
    start = time.perf_counter()
    for i, message in enumerate(messages):
        await queue.put(message)
        if i % 1000 == 0:
            await asyncio.sleep(0)
    await done
    elapsed = time.perf_counter() - start
    await task
    return N / elapsed


def main() -> None:
    rate = max(asyncio.run(floor()) for _ in range(3))
    print(f"asyncio.Queue floor       : {rate:>10,.0f} messages/s")
    for batch in (1, 100):
        rate = max(asyncio.run(run(batch)) for _ in range(3))
        print(f"memory adapter, batch={batch:>3}: {rate:>10,.0f} messages/s (publish+deliver+ack)")


if __name__ == "__main__":
    main()
