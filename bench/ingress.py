"""HTTP ingress throughput: requests/s accepted into ``memory://`` against a bare ASGI app that
answers 200 at once (the floor), in the same run.

Each server runs under uvicorn in its own process (no GIL shared with the client); the client
is an httpx ``AsyncClient`` posting binary-mode CloudEvents (each a new event, so none is a
duplicate), ``--concurrency`` at a time. Rounds alternate floor / ingress / ingress signed
(Standard Webhooks, verified per request), so machine noise hits all alike; the best round of
each is reported.

    python bench/ingress.py [--requests 3000] [--concurrency 16] [--rounds 3] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import multiprocessing
import socket
import sys
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from eventbus import Event, EventBus, IngressApp, StandardWebhooks, to_http
from eventbus._webhooks._signature import signature_headers

SECRET = "whsec_" + base64.b64encode(b"b" * 32).decode()


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The floor: read the body, answer 200 with a small JSON body."""
    if scope["type"] != "http":
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b'{"status":200}'})


def serve(kind: str, port: int) -> None:
    import uvicorn

    app: Any = bare
    if kind == "ingress":
        app = IngressApp(EventBus("memory://bench"), auth=None)
    elif kind == "signed":
        app = IngressApp(EventBus("memory://bench"), auth=StandardWebhooks(SECRET))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def requests_for(n: int, signed: bool) -> list[tuple[dict[str, str], bytes]]:
    out = []
    now = int(datetime.now(UTC).timestamp())
    for i in range(n):
        headers, body = to_http(Event(type="com.example.bench", source="/bench", data={"n": i}))
        if signed:
            headers.update(signature_headers(f"msg_{i}_{time.time_ns()}", now, body, SECRET))
        out.append((headers, body))
    return out


async def run_round(url: str, requests: list[tuple[dict[str, str], bytes]], width: int) -> float:
    queue = list(reversed(requests))
    limits = httpx.Limits(max_connections=width, max_keepalive_connections=width)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while queue:
                headers, body = queue.pop()
                response = await client.post("/", content=body, headers=headers)
                if response.status_code != 200:
                    raise RuntimeError(f"{response.status_code}: {response.text}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(width)))
        return len(requests) / (time.perf_counter() - start)


async def wait_up(url: str) -> None:
    async with httpx.AsyncClient(base_url=url) as client:
        for _ in range(1200):  # a spawned interpreter imports eventbus first
            try:
                await client.options("/")
                return
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


async def main(args: argparse.Namespace) -> dict[str, Any]:
    kinds = ("floor", "ingress", "signed")
    ports = {kind: free_port() for kind in kinds}
    spawn = multiprocessing.get_context("spawn")  # not fork: this process runs an event loop
    servers = [
        spawn.Process(target=serve, args=("bare" if k == "floor" else k, ports[k])) for k in kinds
    ]
    for process in servers:
        process.start()
    try:
        urls = {kind: f"http://127.0.0.1:{ports[kind]}" for kind in kinds}
        for url in urls.values():
            await wait_up(url)
        best = dict.fromkeys(kinds, 0.0)
        for _ in range(args.rounds):
            for kind in kinds:
                requests = requests_for(args.requests, signed=kind == "signed")
                rate = await run_round(urls[kind], requests, args.concurrency)
                best[kind] = max(best[kind], rate)
    finally:
        for process in servers:
            process.terminate()
            process.join(10)
    return {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "rounds": args.rounds,
        "floor_per_s": round(best["floor"]),
        "ingress_per_s": round(best["ingress"]),
        "ingress_signed_per_s": round(best["signed"]),
        "ingress_vs_floor": round(best["ingress"] / best["floor"], 2),
        "signed_vs_floor": round(best["signed"] / best["floor"], 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    result = asyncio.run(main(parser.parse_args()))
    if parser.parse_args().json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    sys.exit(0)
