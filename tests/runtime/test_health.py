"""The health endpoints over real HTTP, in-process: readiness follows the bus and its
subscriptions; bad requests get clear statuses."""

from __future__ import annotations

import asyncio
from typing import Any

from service_harness import http_get

from eventbus import Event, EventBus
from eventbus._runtime._runner import Runner


async def get(port: int, path: str) -> tuple[int, str, str]:
    return await asyncio.to_thread(http_get, port, path)


async def raw(port: int, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_readyz_follows_the_phases_and_every_subscription(memory_url: str) -> None:
    bus = EventBus(memory_url)

    async def handle(event: Event[Any]) -> None:
        pass

    orders = bus.subscribe("orders.created", handle)
    bus.subscribe("orders.paid", handle)
    runner = Runner(bus)
    assert runner.readiness() == (False, "starting")
    task = asyncio.create_task(runner.run(health_host="127.0.0.1", health_port=0))
    await runner.serving.wait()
    port = runner.health.port
    assert await get(port, "/readyz") == (200, "text/plain", "ready\n")
    assert (await get(port, "/healthz"))[0] == 200

    await orders.close()  # one subscription stopped listening: not ready, and says which
    status, _, body = await get(port, "/readyz")
    assert (status, body) == (503, "subscription 'orders.created' is not listening\n")

    runner.stop()
    assert await task == 0
    assert runner.phase == "stopped"


async def test_bad_requests_get_clear_statuses(memory_url: str) -> None:
    runner = Runner(EventBus(memory_url))
    task = asyncio.create_task(runner.run(health_host="127.0.0.1", health_port=0))
    await runner.serving.wait()
    port = runner.health.port
    post = await raw(port, b"POST /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert post.startswith(b"HTTP/1.1 405 ")
    garbage = await raw(port, b"hello\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400 ")
    head = await raw(port, b"HEAD /healthz HTTP/1.1\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert head.endswith(b"\r\n\r\n")  # no body for HEAD
    assert (await get(port, "/readyz?verbose=1"))[0] == 200
    runner.stop()
    assert await task == 0
