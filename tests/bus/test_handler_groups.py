"""HandlerGroup (like FastAPI's APIRouter) and start-up/shutdown hooks, on the memory bus."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventbus import (
    ConfigurationError,
    ConsumeContext,
    Event,
    EventBus,
    HandlerGroup,
    Middleware,
)
from eventbus._bus._middleware import ConsumeNext


class Tag(Middleware):
    def __init__(self, name: str, seen: list[str]) -> None:
        self.name, self.seen = name, seen

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        self.seen.append(f"{self.name}:{event.type}")
        await call_next(event, context)


async def test_an_included_group_subscribes_under_its_prefix_group_and_middleware(
    memory_url: str,
) -> None:
    seen: list[str] = []
    got: list[str] = []
    both = asyncio.Event()
    handlers = HandlerGroup(prefix="orders", group="billing", middleware=[Tag("group", seen)])

    @handlers.subscribe("created")
    async def created(event: Event[Any]) -> None:
        got.append(f"created {event.id}")
        if len(got) == 2:
            both.set()

    @handlers.subscribe("paid", group=None)  # an explicit None is kept: every instance
    async def paid(event: Event[Any]) -> None:
        got.append(f"paid {event.id}")
        if len(got) == 2:
            both.set()

    bus = EventBus(memory_url, middleware=[Tag("bus", seen)])
    subs = bus.include(handlers, prefix="shop", middleware=[Tag("include", seen)])
    assert [(s.pattern, s.group) for s in subs] == [
        ("shop.orders.created", "billing"),
        ("shop.orders.paid", None),
    ]
    async with bus:
        for sub in subs:
            await sub
        await bus.publish(Event(type="shop.orders.created", source="/t", id="1"))
        await bus.publish(Event(type="shop.orders.paid", source="/t", id="2"))
        await both.wait()
    assert sorted(got) == ["created 1", "paid 2"]
    # the bus's middleware first, then the including side's, then the group's
    assert seen[:3] == [
        "bus:shop.orders.created",
        "include:shop.orders.created",
        "group:shop.orders.created",
    ]


async def test_nested_groups_join_prefixes_and_hooks(memory_url: str) -> None:
    calls: list[str] = []
    inner = HandlerGroup(prefix="payments")
    outer = HandlerGroup(prefix="shop", group="g")

    @inner.subscribe("failed")
    async def failed(event: Event[Any]) -> None:
        pass

    @inner.on_startup
    async def inner_up() -> None:
        calls.append("inner up")

    @inner.on_shutdown
    def inner_down() -> None:  # a plain function is fine too
        calls.append("inner down")

    outer.include(inner)
    assert [(r.pattern, r.options["group"]) for r in outer.registrations] == [
        ("shop.payments.failed", "g")
    ]
    bus = EventBus(memory_url)
    bus.include(outer)
    async with bus:
        assert calls == ["inner up"]
    assert calls == ["inner up", "inner down"]


async def test_hooks_run_around_the_subscriptions_in_order(memory_url: str) -> None:
    calls: list[str] = []
    bus = EventBus(memory_url)
    handled = asyncio.Event()

    @bus.on_startup
    async def open_pool() -> None:
        calls.append(f"pool open, subscriptions listening: {bus.subscriptions[0].listening}")

    @bus.on_startup
    async def warm_cache() -> None:
        calls.append("cache warm")

    @bus.on_shutdown
    async def close_pool() -> None:
        calls.append(f"pool closed, in flight: {bus.subscriptions[0].in_flight}")

    @bus.on_shutdown
    async def flush_cache() -> None:
        calls.append("cache flushed")

    @bus.subscribe("orders.created")
    async def handle(event: Event[Any]) -> None:
        calls.append("handled")
        handled.set()

    async with bus:
        await bus.subscriptions[0]
        await bus.publish(Event(type="orders.created", source="/t"))
        await handled.wait()
    assert calls == [
        "pool open, subscriptions listening: False",  # hooks run before subscriptions start
        "cache warm",
        "handled",
        "cache flushed",  # shutdown hooks in reverse order, after the drain
        "pool closed, in flight: 0",
    ]


async def test_a_failing_startup_hook_fails_open_and_runs_the_shutdown_hooks(
    memory_url: str,
) -> None:
    calls: list[str] = []
    bus = EventBus(memory_url)

    @bus.on_shutdown
    async def close_pool() -> None:
        calls.append("closed")

    @bus.on_startup
    async def broken() -> None:
        raise RuntimeError("database unreachable")

    with pytest.raises(RuntimeError, match="database unreachable"):
        await bus.open()
    assert calls == ["closed"]
    assert not bus.is_open


def test_bad_hooks_and_groups_are_configuration_errors() -> None:
    handlers = HandlerGroup()
    with pytest.raises(ConfigurationError, match="needs_arg' must take no arguments"):

        @handlers.on_startup
        async def needs_arg(x: int) -> None:
            pass

    with pytest.raises(ConfigurationError, match="include\\(\\) takes a HandlerGroup"):
        EventBus("memory://").include(object())  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="option group=5 is invalid"):
        HandlerGroup(group=5)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="cannot include itself"):
        handlers.include(handlers)
