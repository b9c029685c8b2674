"""The wire switches: ``content_mode`` and ``amqp_prefix``, per bus and per channel, as URL
options and Python parameters (eventbus/_wireopts.py; docs/interop.md shows which SDK needs
which)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventbus import ConfigurationError, ContentMode, Event, EventBus, Message, Router
from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware
from eventbus._bus._wireopts import WireOptions, split_wire_options
from eventbus.testing import wait_until


class Capture(Middleware):
    """Records the wire message of every delivery."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        assert context.message is not None
        self.messages[context.channel] = context.message
        await call_next(event, context)


async def _modes(url: str, **options: Any) -> dict[str, str]:
    """Publish one event on channels "a" and "b"; the mode each arrived in."""
    capture = Capture()
    router = Router({"t.a": "a", "t.b": "b"})
    async with EventBus(url, router=router, middleware=[capture], **options) as bus:

        async def handler(event: Event[Any]) -> None:
            pass

        for channel in ("a", "b"):
            await bus.subscribe(f"t.{channel}", handler)
        for channel in ("a", "b"):
            await bus.publish(Event(type=f"t.{channel}", source="/s", data={"n": 1}))
        await wait_until(lambda: len(capture.messages) == 2)
    return {
        channel: "structured" if "ce-id" not in m.headers else "binary"
        for channel, m in capture.messages.items()
    }


def test_split_takes_only_the_wire_options_off_the_url() -> None:
    url = "nats://h:4222?mode=core&content_mode=structured&content_mode.orders.eu=binary&x=1"
    rest, bus, channels = split_wire_options(url + "&amqp_prefix.a=cloudEvents_")
    assert rest == "nats://h:4222?mode=core&x=1"
    assert bus == {"content_mode": "structured"}
    assert channels == {
        "orders.eu": {"content_mode": "binary"},
        "a": {"amqp_prefix": "cloudEvents_"},
    }
    assert split_wire_options("memory://x") == ("memory://x", {}, {})
    assert split_wire_options("memory:?content_mode=binary&a=1#f") == (
        "memory:?a=1#f",
        {"content_mode": "binary"},
        {},
    )
    assert split_wire_options("memory://?content_mode=binary")[0] == "memory://"
    with pytest.raises(ConfigurationError, match="names no channel"):
        split_wire_options("memory://x?content_mode.=binary")


def test_bad_choices_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="'binary' or 'structured'"):
        WireOptions("ce-headers", "binary", {"content_mode": "fancy"}, {})
    with pytest.raises(ConfigurationError, match="AMQP binding"):
        WireOptions("ce-headers", "binary", {"amqp_prefix": "cloudEvents_"}, {})
    with pytest.raises(ConfigurationError, match=r"channel 'c'.*cloudEvents:"):
        WireOptions("amqp", "binary", {}, {"c": {"amqp_prefix": "ce-"}})
    with pytest.raises(ConfigurationError, match=r"unknown wire option 'prefix'"):
        WireOptions("amqp", "binary", {}, {"c": {"prefix": "cloudEvents_"}})
    with pytest.raises(ConfigurationError, match="'binary' or 'structured'"):
        EventBus("memory://bad?content_mode=xml")


async def test_default_is_the_adapters_mode(memory_url: str) -> None:
    assert await _modes(memory_url) == {"a": "binary", "b": "binary"}
    assert EventBus(memory_url).content_mode is ContentMode.BINARY


async def test_url_option_per_bus_and_per_channel(memory_url: str) -> None:
    url = f"{memory_url}?content_mode=structured&content_mode.b=binary"
    assert await _modes(url) == {"a": "structured", "b": "binary"}


async def test_python_parameters_win_over_the_url(memory_url: str) -> None:
    url = f"{memory_url}?content_mode=binary&content_mode.a=binary"
    modes = await _modes(
        url, content_mode="structured", channel_options={"a": {"content_mode": "structured"}}
    )
    assert modes == {"a": "structured", "b": "structured"}
    modes = await _modes(
        memory_url, channel_options={"b": {"content_mode": ContentMode.STRUCTURED}}
    )
    assert modes == {"a": "binary", "b": "structured"}


def test_publish_many_uses_each_channels_encoder(memory_url: str) -> None:
    async def run() -> dict[str, str]:
        capture = Capture()
        router = Router({"t.a": "a", "t.b": "b"})
        options = {"b": {"content_mode": "structured"}}
        async with EventBus(
            memory_url, router=router, middleware=[capture], channel_options=options
        ) as bus:

            async def handler(event: Event[Any]) -> None:
                pass

            await bus.subscribe("t.a", handler)
            await bus.subscribe("t.b", handler)
            await bus.publish_many([Event(type="t.a", source="/s"), Event(type="t.b", source="/s")])
            await wait_until(lambda: len(capture.messages) == 2)
        return {
            c: "binary" if "ce-id" in m.headers else "structured"
            for c, m in capture.messages.items()
        }

    assert asyncio.run(run()) == {"a": "binary", "b": "structured"}
