"""What a failed JetStream publish says about its messages: "unknown" when they may be stored
(the server went away and nats-py's reconnect buffer still holds them), "not-stored" when the
server said no. Against a real nats-server that is stopped and started again."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import nats
import pytest
from eventbus_nats import NatsAdapter, NatsConfig, ReconnectConfig, StreamConfig
from nats_launcher import NatsServer

from eventbus import Event, EventBus, PublishError
from eventbus.testing import run


async def _stored(server: NatsServer, stream: str) -> int:
    nc = await nats.connect(server.url())
    try:
        info = await nc.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await nc.close()


def _adapter(server: NatsServer) -> NatsAdapter:
    return NatsAdapter(
        NatsConfig(
            servers=(server.address,),
            streams=(StreamConfig(name="OUTCOME", subjects=("outcome.>",), retention="limits"),),
            publish_timeout=0.5,
            publish_retries=1,
            reconnect=ReconnectConfig(time_wait=0.1, max_attempts=-1),
        )
    )


async def _eventually_stored(server: NatsServer, count: int, timeout: float = 20.0) -> None:
    """Wait until the stream holds ``count`` messages (the server may still be starting)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: int | None = None
    while loop.time() < deadline:
        try:
            seen = await _stored(server, "OUTCOME")
        except Exception:  # not up yet
            seen = None
        if seen == count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the stream holds {seen} message(s), not {count}")


def test_a_publish_during_an_outage_has_an_unknown_outcome_and_may_still_be_stored(
    start_server: Callable[..., NatsServer],
) -> None:
    server = start_server()

    async def scenario() -> None:
        async with EventBus(_adapter(server)) as bus:
            await bus.publish(Event(type="outcome.sent", source="/p", data=0))
            server.stop()  # down for longer than the publish waits: the publish gives up
            during = Event(type="outcome.sent", source="/p", data=1)
            with pytest.raises(PublishError) as info:
                await bus.publish(during)
            assert info.value.outcome == "unknown"
            assert "outcome unknown" in str(info.value)
            assert "not stored" not in str(info.value)
            server.start()  # same port and store: nats-py reconnects and sends its buffer
            await _eventually_stored(server, 2)  # the "failed" publish was stored after all
            await bus.publish(during)  # the producer retries: dedupe drops the copy
            assert await _stored(server, "OUTCOME") == 2

    run(scenario(), timeout=90)


def test_a_publish_the_server_answers_no_is_not_stored(
    start_server: Callable[..., NatsServer],
) -> None:
    """The stream is deleted under a running bus: JetStream answers "no stream" (503) to every
    attempt, so nothing was stored and the error says so."""
    server = start_server()

    async def scenario() -> None:
        async with EventBus(_adapter(server)) as bus:
            await bus.publish(Event(type="outcome.sent", source="/p", data=0))
            nc = await nats.connect(server.url())
            try:
                await nc.jetstream().delete_stream("OUTCOME")
            finally:
                await nc.close()
            with pytest.raises(PublishError) as info:
                await bus.publish(Event(type="outcome.sent", source="/p", data=1))
            assert info.value.outcome == "not-stored"
            assert str(info.value).endswith("[not stored]")

    run(scenario(), timeout=60)
