"""Webhook delivery throughput and added latency, against a plain httpx loop (the floor).

A receiver (uvicorn, in its own process so it does not share this one's GIL) answers 204 at
once and counts requests. In the same run:

- floor: an httpx ``AsyncClient`` posting the same signed bodies, ``--concurrency`` at a time;
- eventbus: events published on ``memory://``, delivered by ``WebhookDelivery`` (SQLite endpoint
  store, one endpoint, ``max_in_flight = --concurrency``) until the receiver counted them all;
- latency: one event at a time, publish -> the receiver's count shows it, against one httpx post
  followed by one count read (median of ``--latency-runs``); the difference is the latency
  eventbus adds per delivery (the eventbus side polls the count, so it may include a few more
  count reads).

    python bench/webhooks.py [--events 2000] [--concurrency 8] [--latency-runs 200] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from eventbus import Event, EventBus
from eventbus.webhooks import SqliteEndpointStore, WebhookDelivery, Webhooks

COUNT_PATH = "/count"


class Receiver:
    """ASGI app: POST -> 204 and count; GET /count -> the count."""

    def __init__(self) -> None:
        self.count = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        if scope["method"] == "POST":
            self.count += 1
            body, status = b"", 204
        else:
            body, status = str(self.count).encode(), 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body})


def serve(port: int) -> None:
    import uvicorn

    uvicorn.run(Receiver(), host="127.0.0.1", port=port, log_level="error", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def count(client: httpx.AsyncClient, base: str) -> int:
    return int((await client.get(base + COUNT_PATH)).text)


async def wait_count(
    client: httpx.AsyncClient, base: str, target: int, pause: float = 0.001
) -> None:
    while await count(client, base) < target:  # noqa: ASYNC110 (the count is in another process)
        await asyncio.sleep(pause)


def events(n: int) -> list[Event[Any]]:
    return [
        Event(type="bench.order.placed", source="bench", data={"order": i, "total": 12.5})
        for i in range(n)
    ]


async def floor(
    client: httpx.AsyncClient,
    url: str,
    bodies: list[tuple[dict[str, str], bytes]],
    concurrency: int,
) -> float:
    queue = list(reversed(bodies))

    async def worker() -> None:
        while queue:
            headers, body = queue.pop()
            response = await client.post(url, content=body, headers=headers)
            assert response.status_code == 204

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(sys.executable, __file__, "--serve", str(port))
    base = f"http://127.0.0.1:{port}"
    url = base + "/hook"
    tmp = Path(tempfile.mkdtemp())
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(500):
                try:
                    await count(client, base)
                    break
                except httpx.HTTPError:
                    await asyncio.sleep(0.02)
            async with Webhooks(
                SqliteEndpointStore(tmp / "hooks.db"), allow=["127.0.0.0/8"]
            ) as hooks:
                endpoint = await hooks.add(url, "bench.order.placed", handshake=False)
                sink = hooks.http()
                batch = events(args.events)
                bodies = [sink.request(endpoint, e) for e in batch]
                floor_s = await floor(client, url, bodies, args.concurrency)

                async with EventBus("memory://bench-webhooks") as bus:
                    delivery = WebhookDelivery(
                        bus, hooks.store, allow=["127.0.0.0/8"], max_in_flight=args.concurrency
                    )
                    async with delivery:
                        before = await count(client, base)
                        start = time.perf_counter()
                        await bus.publish_many(batch)
                        await wait_count(client, base, before + args.events, pause=0.05)
                        eventbus_s = time.perf_counter() - start

                        # Latency, one at a time.
                        plain, through = [], []
                        headers, body = bodies[0]
                        for event in events(args.latency_runs):
                            t0 = time.perf_counter()
                            await client.post(url, content=body, headers=headers)
                            await count(client, base)  # as the eventbus side: one count read
                            plain.append(time.perf_counter() - t0)
                            target = await count(client, base) + 1
                            t0 = time.perf_counter()
                            await bus.publish(event)
                            await wait_count(client, base, target)
                            through.append(time.perf_counter() - t0)
    finally:
        server.terminate()
        await server.wait()
    return {
        "events": args.events,
        "concurrency": args.concurrency,
        "floor_per_s": round(args.events / floor_s),
        "eventbus_per_s": round(args.events / eventbus_s),
        "ratio": round(floor_s / eventbus_s, 3),
        "latency_plain_ms": round(statistics.median(plain) * 1000, 3),
        "latency_eventbus_ms": round(statistics.median(through) * 1000, 3),
        "added_latency_ms": round(
            (statistics.median(through) - statistics.median(plain)) * 1000, 3
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-runs", type=int, default=200)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.serve)
        sys.exit(0)
    result = asyncio.run(main(options))
    if options.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
