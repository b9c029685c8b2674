"""The server is killed and restarted (same store) mid-stream: no published event is lost."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from typing import Any

from nats_launcher import NatsServer

from eventbus import Event, EventBus
from eventbus.testing import run, wait_until

N = 400
RESTART_AT = 150
FAST = "reconnect_wait=0.1&max_reconnect=-1&publish_timeout=1&publish_retries=8"


def test_server_restart_mid_stream_loses_nothing(start_server: Callable[..., NatsServer]) -> None:
    server = start_server()
    channel = f"restart.t{uuid.uuid4().hex[:8]}.work"

    async def scenario() -> None:
        grouped: set[str] = set()
        fanned: set[str] = set()
        sent: list[str] = []
        async with EventBus(server.url(FAST)) as consumer, EventBus(server.url(FAST)) as producer:

            async def group_handler(event: Event[Any]) -> None:
                grouped.add(event.id)

            async def fan_out_handler(event: Event[Any]) -> None:
                fanned.add(event.id)

            await consumer.subscribe(channel, group_handler, group="workers", ack_wait=2.0)
            await consumer.subscribe(channel, fan_out_handler, ack_wait=2.0)
            restart: asyncio.Future[None] | None = None
            for i in range(N):
                event = Event(type=channel, source="/restart", data=i)
                await producer.publish(event)  # retried across the restart by the adapter
                sent.append(event.id)
                if i == RESTART_AT:
                    restart = asyncio.ensure_future(asyncio.to_thread(server.restart, kill=True))
                await asyncio.sleep(0.002)
            assert restart is not None
            await restart
            expected = set(sent)
            await wait_until(lambda: expected <= grouped, timeout=40, what="the group's events")
            await wait_until(lambda: expected <= fanned, timeout=40, what="the fan-out's events")
        assert server.log_file.read_text().count("Server is ready") == 2

    run(scenario(), timeout=90)


def test_closing_while_the_server_is_down_is_quick_and_quiet(
    start_server: Callable[..., NatsServer],
) -> None:
    server = start_server()
    channel = f"down.t{uuid.uuid4().hex[:8]}.work"

    async def scenario() -> None:
        started = asyncio.Event()
        bus = EventBus(server.url("reconnect_wait=0.1"))
        await bus.open()

        async def stuck(event: Event[Any]) -> None:
            started.set()
            await asyncio.Event().wait()

        await bus.subscribe(channel, stuck, group="g")
        await bus.subscribe(channel, stuck)
        await bus.publish(Event(type=channel, source="/down"))
        await asyncio.wait_for(started.wait(), 10)
        server.stop(kill=True)
        begin = time.monotonic()
        assert await bus.close(timeout=0.2) is False  # handlers cut off, nothing raised
        assert time.monotonic() - begin < 3

    run(scenario(), timeout=30)
