"""Broken messages sent straight to nats-server (not through the bus) are dead-lettered as
``decode-error``, never handled as valid and never redelivered forever (issue 10, defect 6)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from nats_launcher import NatsServer

from eventbus import Event, EventBus, Message
from eventbus.adapter import DEAD_LETTER_GROUP, Delivery, SubscriptionSpec
from eventbus.testing import run, wait_until
from eventbus.testing._conformance import dead_letter_headers, settle


async def _raw_publish(server: NatsServer, subject: str, header_block: bytes) -> None:
    """HPUB exactly these header bytes (nats-py would normalise them)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    await reader.readline()  # INFO
    block = b"NATS/1.0\r\n" + header_block + b"\r\n"
    writer.write(b'CONNECT {"verbose":false,"headers":true}\r\n')
    writer.write(b"HPUB %s %d %d\r\n%s\r\n" % (subject.encode(), len(block), len(block), block))
    writer.write(b"PING\r\n")
    await writer.drain()
    while (await reader.readline()).strip() != b"PONG":
        pass
    writer.close()
    await writer.wait_closed()


_BASE = b"ce-specversion: 1.0\r\nce-source: /raw\r\nce-type: %s\r\n"


@pytest.mark.parametrize("mode", ["", "mode=core"])
@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        (b"ce-id: 1\r\nce-id: 2\r\n", b"ce-id: appears 2 times"),
        (b"ce-id: 1\r\nce-tenant: a\xffb\r\n", b"ce-tenant: is not valid UTF-8"),
        (b"ce-id: \xc3\r\n", b"ce-id: is not valid UTF-8"),
    ],
    ids=["two-ce-id", "invalid-utf8-extension", "invalid-utf8-id"],
)
def test_broken_headers_are_dead_lettered_as_decode_errors(
    nats_server: NatsServer, mode: str, extra: bytes, problem: bytes
) -> None:
    event_type = f"raw.t{uuid.uuid4().hex[:10]}"

    async def scenario() -> None:
        handled: list[Event[Any]] = []
        dead: list[Message] = []
        async with EventBus(nats_server.url(mode)) as bus:

            async def handler(event: Event[Any]) -> None:
                handled.append(event)

            sub = bus.subscribe(event_type, handler)
            await sub
            assert sub.dead_letter_channel is not None

            async def take(delivery: Delivery) -> None:
                dead.append(delivery.message)
                await delivery.ack()

            group = None if mode else DEAD_LETTER_GROUP
            reader = await bus.adapter.subscribe(
                SubscriptionSpec(channel=sub.dead_letter_channel, group=group), take
            )
            await _raw_publish(nats_server, sub.channel, _BASE % event_type.encode() + extra)
            await wait_until(lambda: len(dead) == 1, what="the dead letter")
            await settle(0.5)
            await reader.close()
        assert handled == []
        assert len(dead) == 1
        attributes = dead_letter_headers(dead[0])
        assert attributes["deadletterreason"] == "decode-error"
        assert problem.decode() in attributes["deadlettererror"]
        assert sub.stats.received == 1 and sub.stats.dead_lettered == 1

    run(scenario())
