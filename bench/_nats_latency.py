"""Publish -> handler latency at a steady rate, for bench/nats_throughput.py: raw nats-py and
eventbus, core NATS and JetStream, on the benchmark's nats-server."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import msgspec
import nats
from _nats import Stamped
from _nats_runs import bus, subject

from eventbus import Event

__all__ = ["latency"]


async def latency(address: str, target: str, rate: int, seconds: float) -> list[float]:
    """Publish ``rate`` events/s one by one for ``seconds``; return sorted latencies in ms
    (the first quarter of a second is warm-up and not counted)."""
    loop = asyncio.get_running_loop()
    samples: list[float] = []
    topic = subject(f"lat{target.replace('-', '')}")
    warm = time.perf_counter() + 0.25
    decode = msgspec.json.Decoder(Stamped).decode

    def record(sent_at: float) -> None:
        if sent_at >= warm:
            samples.append((time.perf_counter() - sent_at) * 1e3)

    async def pace(send: Any) -> None:
        """Send on schedule; each publish is its own task, so waiting for a JetStream ack
        does not hold back the next event."""
        tasks: set[asyncio.Task[None]] = set()
        start, sent = time.perf_counter(), 0
        while (elapsed := time.perf_counter() - start) < seconds:
            due = int(elapsed * rate)
            while sent < due:
                task = loop.create_task(send(Stamped(f"o-{sent}", time.perf_counter())))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
            await asyncio.sleep(0.0005)
        if tasks:
            await asyncio.gather(*tasks)
        await asyncio.sleep(0.5)  # let the last ones arrive

    if target == "raw-core":
        sub_nc, pub_nc = (
            await nats.connect(f"nats://{address}"),
            await nats.connect(f"nats://{address}"),
        )

        async def raw_handle(msg: Any) -> None:
            record(decode(msg.data).sent_at)

        await sub_nc.subscribe(topic, cb=raw_handle)
        await sub_nc.flush()
        await sub_nc.flush()

        async def raw_send(data: Stamped) -> None:
            await pub_nc.publish(topic, msgspec.json.encode(data))

        await pace(raw_send)
        await sub_nc.close()
        await pub_nc.close()
    elif target == "raw-jetstream":
        nc = await nats.connect(f"nats://{address}")
        js = nc.jetstream()
        topic = f"rawbench.{uuid.uuid4().hex[:8]}"
        pull = await js.pull_subscribe(
            topic, durable=f"lat{uuid.uuid4().hex[:8]}", stream="RAWBENCH"
        )
        stopped = False

        async def fetch() -> None:
            while not stopped:
                try:
                    batch = await pull.fetch(64, timeout=0.5)
                except nats.errors.TimeoutError:
                    continue
                for msg in batch:
                    record(decode(msg.data).sent_at)
                    await msg.ack()

        reader = asyncio.ensure_future(fetch())

        async def js_send(data: Stamped) -> None:
            await js.publish(topic, msgspec.json.encode(data))

        await pace(js_send)
        stopped = True
        await reader
        await nc.close()
    else:
        query = "mode=core" if target == "eventbus-core" else ""
        async with bus(address, query) as consumer, bus(address, query) as producer:

            async def handle(event: Event[Stamped]) -> None:
                assert event.data is not None
                record(event.data.sent_at)

            await consumer.subscribe(topic, handle)

            async def send(data: Stamped) -> None:
                await producer.publish(Event(type=topic, source="/bench", data=data))

            await pace(send)
    return sorted(samples)
