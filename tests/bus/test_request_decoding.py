"""How the requester decodes replies: once, straight into the reply type, while every waiting
request wants the same type; into each request's own type when they differ."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

import eventbus._bus._eventbus as eventbus_module
from eventbus import Event, EventBus
from eventbus._wire._message import Message


class Number(msgspec.Struct, frozen=True):
    n: int


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The data types the requester's decoder is called with (the responder's are not)."""
    calls: list[Any] = []
    real = eventbus_module.decoder

    def counting(binding: str) -> Callable[[Message, Any], Event[Any]]:
        decode = real(binding)

        def wrapped(message: Message, data_type: Any = None) -> Event[Any]:
            calls.append(data_type)
            return decode(message, data_type)

        return wrapped

    monkeypatch.setattr(eventbus_module, "decoder", counting)
    return calls


def _url() -> str:
    return f"memory://rpc-{uuid.uuid4().hex[:10]}"


async def _doubling(url: str, kind: str) -> EventBus:
    server = EventBus(url)
    await server.open()

    async def double(event: Event[Any]) -> Event[Any]:
        n = event.data["n"] if isinstance(event.data, dict) else 0
        return Event(type=f"{kind}.done", source="/s", data={"n": 2 * n})

    await server.subscribe(kind, double)
    return server


def test_a_typed_reply_is_decoded_once(decodes: list[Any]) -> None:
    async def scenario() -> None:
        url, kind = _url(), "rpc.decode.once"
        server = await _doubling(url, kind)
        try:
            async with EventBus(url) as client:
                replies = await asyncio.gather(
                    *(
                        client.request(
                            Event(type=kind, source="/c", data={"n": i}),
                            timeout=10,
                            reply_type=Number,
                        )
                        for i in range(20)
                    )
                )
                assert [r.data for r in replies] == [Number(2 * i) for i in range(20)]
        finally:
            await server.close()

    asyncio.run(scenario())
    assert decodes == [Number] * 20


def test_requests_wanting_different_types_each_get_their_own(decodes: list[Any]) -> None:
    async def scenario() -> None:
        url, kind = _url(), "rpc.decode.mixed"
        server = await _doubling(url, kind)
        try:
            async with EventBus(url) as client:
                typed, untyped, raw = await asyncio.gather(
                    client.request(
                        Event(type=kind, source="/c", data={"n": 1}), timeout=10, reply_type=Number
                    ),
                    client.request(Event(type=kind, source="/c", data={"n": 2}), timeout=10),
                    client.request(
                        Event(type=kind, source="/c", data={"n": 3}), timeout=10, reply_type=bytes
                    ),
                )
                assert typed.data == Number(2)
                assert untyped.data == {"n": 4}
                assert raw.data == b'{"n":6}'
                assert client.request_stats.replied == 3
        finally:
            await server.close()

    asyncio.run(scenario())


def test_a_reply_that_does_not_fit_the_type_fails_its_request(decodes: list[Any]) -> None:
    class Other(msgspec.Struct):
        name: str

    async def scenario() -> None:
        url, kind = _url(), "rpc.decode.misfit"
        server = await _doubling(url, kind)
        try:
            async with EventBus(url) as client:
                with pytest.raises(Exception, match="name"):
                    await client.request(
                        Event(type=kind, source="/c", data={"n": 1}), timeout=10, reply_type=Other
                    )
                assert client.request_stats.late == 0
                assert client.request_stats.invalid == 0
        finally:
            await server.close()

    asyncio.run(scenario())
