"""Shared helpers of the ingress tests: uvicorn on a free port in the test's event loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import uvicorn

from eventbus import Event


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@asynccontextmanager
async def serve(app: Any, *, lifespan: str = "off") -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on a free port until the block ends; yields the base URL."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan=lifespan, log_level="warning", access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.ensure_future(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("uvicorn stopped before it started")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)


class Collector:
    """A handler keeping every event it is given (by id, in arrival order)."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []
        self.arrived = asyncio.Event()

    async def __call__(self, event: Event[Any]) -> None:
        self.events.append(event)
        self.arrived.set()

    def ids(self) -> list[str]:
        return [e.id for e in self.events]
