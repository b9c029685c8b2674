"""A consumer service written as docs/running.md teaches, served by the tests with
``eventbus run orders_service:create_bus --url ...``.

Every step appends a line to the file named by $SERVICE_OUT, so the tests see what ran.
An event whose data has ``"hold": true`` waits until the process gets SIGUSR1 (an in-flight
handler when SIGTERM comes); ``"stuck": true`` never finishes (a drain timeout).
"""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

from eventbus import Event, EventBus, HandlerGroup, MetricsMiddleware, prometheus_meter_provider

OUT = Path(os.environ["SERVICE_OUT"])

handlers = HandlerGroup(prefix="orders", group="billing")
released = asyncio.Event()


def note(line: str) -> None:
    with OUT.open("a") as f:
        f.write(f"{line} pid={os.getpid()}\n")


@handlers.on_startup
async def open_pool() -> None:
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, released.set)
    note("startup")


@handlers.on_shutdown
async def close_pool() -> None:
    note("shutdown")


@handlers.subscribe("created")
async def bill(event: Event[dict[str, Any]]) -> None:
    data = event.data or {}
    note(f"handling {event.id}")
    if data.get("hold"):
        await released.wait()  # the test sends SIGUSR1 once SIGTERM was sent
    if data.get("stuck"):
        await asyncio.Event().wait()
    note(f"billed {event.id}")


def create_bus(url: str) -> EventBus:
    middleware = []
    if os.environ.get("METRICS"):
        middleware.append(MetricsMiddleware(meter_provider=prometheus_meter_provider()))
    bus = EventBus(
        url, drain_timeout=float(os.environ.get("DRAIN_TIMEOUT", "30")), middleware=middleware
    )
    bus.include(handlers)
    feed = os.environ.get("FEED")  # memory:// is in-process: the service feeds itself
    if feed:

        @bus.on_startup
        async def start_feed() -> None:
            async def publish_when_listening() -> None:
                for sub in bus.subscriptions:
                    await sub
                for i, data in enumerate(feed.split(",")):
                    flags = {"hold": data == "hold", "stuck": data == "stuck"}
                    await bus.publish(
                        Event(type="orders.created", source="/feed", id=f"o{i}", data=flags)
                    )

            asyncio.get_running_loop().create_task(publish_when_listening())

    return bus
