"""One measured run per function for bench/nats_throughput.py (and ``compare.py --nats``); each
returns a :data:`Sample`: CPU seconds of this process and wall seconds, per event, from the
first publish to the last event handled (connecting and subscribing are not counted). Every run
uses fresh connections and fresh subjects on the shared server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import nats
from _nats import Order
from eventbus_nats import NatsAdapter

from eventbus import ContentMode, Event, EventBus, encode

BATCH = 1_000
PENDING = 2_000_000  # both sides buffer a whole run: measure speed, not slow-consumer drops
TIMEOUT = 120.0

Sample = tuple[float, float]  # (cpu seconds per event, wall seconds per event)


class _Clock:
    """CPU (``time.process_time``: every thread of this process, not nats-server) and wall."""

    def __init__(self) -> None:
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def per(self, n: int) -> Sample:
        return (time.process_time() - self.cpu) / n, (time.perf_counter() - self.wall) / n


def subject(prefix: str) -> str:
    return f"{prefix}.r{uuid.uuid4().hex[:8]}.order"


def make_events(n: int, event_type: str = "bench.order.placed") -> list[Event[Order]]:
    return [
        Event(type=event_type, source="/bench", data=Order(f"o-{i}", "ada", i)) for i in range(n)
    ]


def wire(events: Sequence[Event[Order]]) -> list[tuple[dict[str, str], bytes]]:
    """The binary-mode headers and body eventbus sends for each event."""
    out = []
    for event in events:
        message = encode(event, "ce-headers")
        out.append(({k: str(v) for k, v in message.headers.items()}, message.body))
    return out


def bus(address: str, query: str = "", mode: ContentMode | None = None) -> EventBus:
    """A bus on the benchmark's server; ``mode`` None is the adapter's default (structured)."""
    return EventBus(NatsAdapter.from_url(f"nats://{address}?{query}"), content_mode=mode)


async def _finish(done: asyncio.Future[None], clock: _Clock, n: int) -> Sample:
    await asyncio.wait_for(done, TIMEOUT)
    return clock.per(n)


async def raw_core_e2e(
    address: str, messages: Sequence[tuple[Mapping[str, str] | None, bytes]]
) -> Sample:
    """nats-py alone: publish (headers, body); the subscriber decodes the body into Order."""
    decode = msgspec.json.Decoder(Order).decode
    sub_nc, pub_nc = (
        await nats.connect(f"nats://{address}"),
        await nats.connect(f"nats://{address}"),
    )
    n, count = len(messages), 0
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    topic = subject("raw")

    async def handle(msg: Any) -> None:
        nonlocal count
        decode(msg.data)
        count += 1
        if count == n:
            done.set_result(None)

    await sub_nc.subscribe(topic, cb=handle, pending_msgs_limit=PENDING)
    await sub_nc.flush()
    await sub_nc.flush()
    clock = _Clock()
    for headers, body in messages:
        await pub_nc.publish(topic, body, headers=headers)  # type: ignore[arg-type]
    rate = await _finish(done, clock, n)
    await sub_nc.close()
    await pub_nc.close()
    return rate


async def bus_e2e(
    address: str,
    events: Sequence[Event[Order]],
    query: str,
    mode: ContentMode | None = None,
) -> Sample:
    """eventbus: publish_many in batches; a typed handler ``Event[Order]`` counts. ``mode``
    applies to both buses (None: the adapter's default, structured on NATS)."""
    n, count = len(events), 0
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    async with bus(address, query, mode) as consumer, bus(address, query, mode) as producer:

        async def handle(event: Event[Order]) -> None:
            nonlocal count
            count += 1
            if count == n:
                done.set_result(None)

        await consumer.subscribe(events[0].type, handle, max_in_flight=256)
        clock = _Clock()
        for i in range(0, n, BATCH):
            await producer.publish_many(events[i : i + BATCH])
        return await _finish(done, clock, n)


async def raw_js_e2e(
    address: str, messages: Sequence[tuple[dict[str, str] | None, bytes]], stream: str
) -> Sample:
    """nats-py JetStream: publish_async (pipelined, up to 4,000 acks outstanding); a pull
    consumer fetches 256 at a time, decodes each body into Order, acks each message."""
    decode = msgspec.json.Decoder(Order).decode
    nc = await nats.connect(f"nats://{address}")
    js = nc.jetstream(publish_async_max_pending=4000)
    topic = f"{stream.lower()}.{uuid.uuid4().hex[:8]}"
    sub = await js.pull_subscribe(topic, durable=f"raw{uuid.uuid4().hex[:8]}", stream=stream)
    n, count = len(messages), 0

    async def consume() -> None:
        nonlocal count
        while count < n:
            try:
                batch = await sub.fetch(256, timeout=1)
            except nats.errors.TimeoutError:
                continue
            for msg in batch:
                decode(msg.data)
                await msg.ack()
            count += len(batch)

    clock = _Clock()
    consumer = asyncio.ensure_future(consume())
    for headers, body in messages:
        await js.publish_async(topic, body, headers=headers)
    await asyncio.wait_for(consumer, TIMEOUT)
    rate = clock.per(n)
    await nc.close()
    return rate


async def faststream_e2e(address: str, n: int) -> Sample | None:
    """FastStream's NATS broker end to end with a typed (pydantic) handler; None if missing."""
    try:
        from faststream.nats import NatsBroker
        from pydantic import BaseModel
    except ImportError:
        return None

    class OrderModel(BaseModel):
        order_id: str
        customer: str
        amount_cents: int

    broker = NatsBroker(f"nats://{address}", logger=None)
    topic, count = subject("fs"), 0
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @broker.subscriber(topic, pending_msgs_limit=PENDING)
    async def handle(order: OrderModel) -> None:
        nonlocal count
        count += 1
        if count == n:
            done.set_result(None)

    await broker.start()
    payloads = [{"order_id": f"o-{i}", "customer": "ada", "amount_cents": i} for i in range(n)]
    clock = _Clock()
    for payload in payloads:
        await broker.publish(payload, topic)
    rate = await _finish(done, clock, n)
    await broker.stop()
    return rate
