"""Request-reply: round-trip latency (p50/p99) and requests/s, eventbus against its peers.

Core NATS (a nats-server this script starts on a free port): eventbus ``bus.request(...,
reply_type=Order)`` against raw nats-py ``nc.request()`` and FastStream 0.7's
``broker.request()`` (the ``bench`` extra), each answered by a responder of its own kind that
decodes the JSON payload and answers with a JSON payload. memory://: eventbus against an asyncio
floor (a queue to a responder task that resolves the requester's future). Each client and its
responder share one event loop and process, as in bench/nats_throughput.py.

The targets run interleaved, in rounds (every round runs each target once, in a rotated order),
so drifting machine load hits them alike; figures are medians over the rounds.

- latency: ``--sequential`` requests one after another; p50 and p99 of the round trips.
- throughput: ``--concurrent`` requests in flight at once (``--total`` per round); requests/s
  and the CPU time of this process per request (requester and responder, not nats-server's):
  on a loaded machine the CPU figure is the steadier one.

    python bench/request_reply.py [--rounds 5] [--sequential 2000] [--concurrent 100] [--total 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _nats import nats_server, percentile

from eventbus import Event, EventBus


class Order(msgspec.Struct):
    order_id: str
    amount_cents: int


Ask = Callable[[int], Awaitable[int]]  # send request n, return the amount the reply carries


class Target:
    """A requester and its responder, opened once and asked many times."""

    name = ""

    async def open(self) -> Ask:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class RawNats(Target):
    name = "nats-py request()"

    def __init__(self, address: str) -> None:
        self.address = address

    async def open(self) -> Ask:
        import nats

        self.server = await nats.connect(f"nats://{self.address}")
        self.client = await nats.connect(f"nats://{self.address}")
        subject = f"rr.raw.{uuid.uuid4().hex[:8]}"
        decode, encode = msgspec.json.Decoder(Order).decode, msgspec.json.Encoder().encode

        async def respond(msg: Any) -> None:
            order = decode(msg.data)
            await msg.respond(encode(Order(order.order_id, order.amount_cents * 2)))

        await self.server.subscribe(subject, cb=respond)
        await self.server.flush()
        client = self.client

        async def ask(n: int) -> int:
            msg = await client.request(subject, encode(Order(f"o-{n}", n)), timeout=30)
            return decode(msg.data).amount_cents

        return ask

    async def close(self) -> None:
        await self.client.close()
        await self.server.close()


class FastStream(Target):
    name = "FastStream request()"

    def __init__(self, address: str) -> None:
        self.address = address

    async def open(self) -> Ask:
        from faststream.nats import NatsBroker
        from pydantic import BaseModel

        class Model(BaseModel):  # FastStream's idiom: a pydantic model
            order_id: str
            amount_cents: int

        subject = f"rr.fs.{uuid.uuid4().hex[:8]}"
        self.server = NatsBroker(f"nats://{self.address}", logger=None)
        self.client = NatsBroker(f"nats://{self.address}", logger=None)

        @self.server.subscriber(subject)
        async def respond(order: Model) -> Model:
            return Model(order_id=order.order_id, amount_cents=order.amount_cents * 2)

        await self.server.start()
        await self.client.connect()
        client = self.client
        decode = msgspec.json.Decoder(Order).decode

        async def ask(n: int) -> int:
            body = Model(order_id=f"o-{n}", amount_cents=n)
            response = await client.request(body, subject, timeout=30)
            return decode(response.body).amount_cents

        return ask

    async def close(self) -> None:
        await self.client.stop()
        await self.server.stop()


class EventBusTarget(Target):
    def __init__(self, url: str, name: str) -> None:
        self.url = url
        self.name = name

    async def open(self) -> Ask:
        kind = f"rr.eb{uuid.uuid4().hex[:8]}.double"
        self.server = EventBus(self.url)
        self.client = EventBus(self.url)
        await self.server.open()
        await self.client.open()

        async def respond(event: Event[Order]) -> Event[Order]:
            order = event.data
            assert order is not None
            return Event(
                type=f"{kind}.done",
                source="/bench",
                data=Order(order.order_id, order.amount_cents * 2),
            )

        await self.server.subscribe(kind, respond)
        client = self.client

        async def ask(n: int) -> int:
            request = Event(type=kind, source="/bench", data=Order(f"o-{n}", n))
            reply = await client.request(request, timeout=30, reply_type=Order)
            assert reply.data is not None
            return reply.data.amount_cents

        return ask

    async def close(self) -> None:
        await self.client.close()
        await self.server.close()


class FutureFloor(Target):
    """The least an in-process request costs: a queue to a responder task, a future back."""

    name = "asyncio future floor"

    async def open(self) -> Ask:
        queue: asyncio.Queue[tuple[Order, asyncio.Future[Order]]] = asyncio.Queue()

        async def respond() -> None:
            while True:
                order, future = await queue.get()
                future.set_result(Order(order.order_id, order.amount_cents * 2))

        self.task = asyncio.get_running_loop().create_task(respond())
        loop = asyncio.get_running_loop()

        async def ask(n: int) -> int:
            future: asyncio.Future[Order] = loop.create_future()
            queue.put_nowait((Order(f"o-{n}", n), future))
            return (await future).amount_cents

        return ask

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


async def _latencies(ask: Ask, n: int) -> list[float]:
    for i in range(50):  # warm-up
        await ask(i)
    out = []
    for i in range(n):
        start = time.perf_counter()
        if await ask(i) != 2 * i:
            raise AssertionError("a wrong reply")
        out.append((time.perf_counter() - start) * 1e6)
    return sorted(out)


async def _throughput(ask: Ask, total: int, concurrent: int) -> tuple[float, float]:
    """Requests/s (wall clock) and CPU µs per request of this process (requester and
    responder; not nats-server's): on a loaded machine the CPU figure is the steadier one."""
    counter = iter(range(total))

    async def worker() -> None:
        for i in counter:
            if await ask(i) != 2 * i:
                raise AssertionError("a wrong reply")

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrent)))
    rate = total / (time.perf_counter() - start)
    return rate, (time.process_time() - cpu) / total * 1e6


async def _round(target: Target, args: argparse.Namespace) -> tuple[list[float], float, float]:
    ask = await target.open()
    try:
        lat = await _latencies(ask, args.sequential)
        rate, cpu = await _throughput(ask, args.total, args.concurrent)
    finally:
        await target.close()
    return lat, rate, cpu


async def _measure(targets: list[Target], args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    p50s: dict[str, list[float]] = {t.name: [] for t in targets}
    p99s: dict[str, list[float]] = {t.name: [] for t in targets}
    rates: dict[str, list[float]] = {t.name: [] for t in targets}
    cpus: dict[str, list[float]] = {t.name: [] for t in targets}
    for r in range(args.rounds):
        order = targets[r % len(targets) :] + targets[: r % len(targets)]
        for target in order:
            lat, rate, cpu = await _round(target, args)
            p50s[target.name].append(percentile(lat, 0.50))
            p99s[target.name].append(percentile(lat, 0.99))
            rates[target.name].append(rate)
            cpus[target.name].append(cpu)
    return {
        t.name: {
            "p50_us": statistics.median(p50s[t.name]),
            "p99_us": statistics.median(p99s[t.name]),
            "requests_per_s": statistics.median(rates[t.name]),
            "cpu_us_per_request": statistics.median(cpus[t.name]),
        }
        for t in targets
    }


def _table(title: str, results: dict[str, dict[str, Any]], baseline: str) -> None:
    base = results[baseline]
    print(f"\n{title}")
    print(
        f"{'target':<26} {'p50 µs':>9} {'p99 µs':>9} {'req/s':>9} {'CPU µs/req':>10} "
        f"{'p50 vs':>7} {'req/s vs':>8} {'CPU vs':>7}"
    )
    for name, r in results.items():
        print(
            f"{name:<26} {r['p50_us']:>9.0f} {r['p99_us']:>9.0f} {r['requests_per_s']:>9.0f} "
            f"{r['cpu_us_per_request']:>10.0f} {r['p50_us'] / base['p50_us']:>6.2f}x "
            f"{r['requests_per_s'] / base['requests_per_s']:>7.2f}x "
            f"{r['cpu_us_per_request'] / base['cpu_us_per_request']:>6.2f}x"
        )
    print(f"(ratios against {baseline})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--sequential", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=100)
    parser.add_argument("--total", type=int, default=5000)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--only", choices=("nats", "memory"))
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if args.only in (None, "memory"):
        memory = [
            FutureFloor(),
            EventBusTarget(f"memory://rr-{uuid.uuid4().hex[:8]}", "eventbus memory://"),
        ]
        out["memory"] = asyncio.run(_measure(memory, args))
        _table("memory:// (one process)", out["memory"], "asyncio future floor")
    if args.only in (None, "nats"):
        with nats_server() as address:
            targets = [
                RawNats(address),
                FastStream(address),
                EventBusTarget(f"nats://{address}?mode=core", "eventbus core NATS"),
            ]
            out["nats"] = asyncio.run(_measure(targets, args))
        _table("core NATS (nats-server on loopback)", out["nats"], "nats-py request()")
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
