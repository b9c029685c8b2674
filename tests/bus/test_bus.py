"""Behaviour of the bus itself on the in-memory adapter: API, typing, middleware, limits, errors."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import msgspec
import pytest

from eventbus import (
    BusClosedError,
    ChannelNameError,
    ConfigurationError,
    ConsumeContext,
    ContentMode,
    Event,
    EventBus,
    Middleware,
    RetryPolicy,
    Router,
    Semantic,
    UnknownSchemeError,
    UnsupportedSemanticError,
)
from eventbus.testing import wait_until


class Order(msgspec.Struct, frozen=True):
    order_id: str
    amount_cents: int


@dataclasses.dataclass
class Shipment:
    order_id: str
    carrier: str


async def test_typed_data_is_decoded_to_the_annotated_type(memory_url: str) -> None:
    got: dict[str, Any] = {}
    async with EventBus(memory_url) as bus:

        @bus.subscribe("shop.order")
        async def on_order(event: Event[Order]) -> None:
            got["order"] = event.data

        @bus.subscribe("shop.shipment")
        async def on_shipment(event: Event[Shipment]) -> None:
            got["shipment"] = event.data

        @bus.subscribe("shop.blob")
        async def on_blob(event: Event[bytes]) -> None:
            got["blob"] = event.data

        @bus.subscribe("shop.any")
        async def on_any(event: Event[Any]) -> None:
            got["any"] = event.data

        await asyncio.gather(*bus.subscriptions)
        await bus.publish(Event(type="shop.order", source="/t", data=Order("o1", 5)))
        await bus.publish(Event(type="shop.shipment", source="/t", data=Shipment("o1", "ups")))
        await bus.publish(Event(type="shop.blob", source="/t", data=b"\x00\x01"))
        await bus.publish(Event(type="shop.any", source="/t", data={"a": [1, 2]}))
        await wait_until(lambda: len(got) == 4)
    assert got == {
        "order": Order("o1", 5),
        "shipment": Shipment("o1", "ups"),
        "blob": b"\x00\x01",
        "any": {"a": [1, 2]},
    }


async def test_publish_before_open_and_after_close_raises(memory_url: str) -> None:
    bus = EventBus(memory_url)
    with pytest.raises(BusClosedError, match="not open"):
        await bus.publish(Event(type="a.b", source="/t"))
    async with bus:
        pass
    with pytest.raises(BusClosedError):
        await bus.publish(Event(type="a.b", source="/t"))


def test_unknown_scheme_names_installed_schemes_and_distribution() -> None:
    import pluggy

    from eventbus import create_adapter
    from eventbus._adapter import _hookspecs
    from eventbus._memory import plugin as memory_plugin

    only_memory = pluggy.PluginManager(_hookspecs.PROJECT)
    only_memory.add_hookspecs(_hookspecs)
    only_memory.register(memory_plugin)
    with pytest.raises(UnknownSchemeError) as info:
        create_adapter("nats://localhost:4222", only_memory)
    message = str(info.value)
    assert "installed schemes: memory" in message
    assert "pip install eventbus-nats" in message
    assert info.value.scheme == "nats"
    with pytest.raises(UnknownSchemeError, match="mqtt"):
        EventBus("mqtt://localhost:1883")


def test_url_secrets_never_appear_in_errors_or_reprs() -> None:
    with pytest.raises(UnknownSchemeError) as info:
        EventBus("mqtt://user:hunter2@host:1883/?token=s3cret")
    assert "hunter2" not in str(info.value) and "s3cret" not in str(info.value)
    bus = EventBus("memory://x?seed=1")
    assert "memory" in repr(bus)


def test_handler_signature_is_checked_at_subscribe(memory_url: str) -> None:
    bus = EventBus(memory_url)
    with pytest.raises(ConfigurationError, match="must take"):
        bus.subscribe("a.b", lambda: None)

    async def wrong(event: int) -> None: ...

    with pytest.raises(ConfigurationError, match="annotated Event"):
        bus.subscribe("a.b", wrong)


def test_channel_name_rules_are_enforced_with_clear_errors(memory_url: str) -> None:
    bus = EventBus(memory_url, router=Router({"bad.type": "no spaces allowed"}))
    with pytest.raises(ChannelNameError) as info:
        bus.subscribe("bad.type", lambda event: None)
    assert info.value.channel == "no spaces allowed"
    assert "memory" in str(info.value)


async def test_router_sends_types_to_a_shared_channel_and_subscribers_filter(
    memory_url: str,
) -> None:
    router = Router({"shop.order.>": "orders"})
    got: list[str] = []
    async with EventBus(memory_url, router=router) as bus:

        async def placed(event: Event[Any]) -> None:
            got.append(event.type)

        sub = await bus.subscribe("shop.order.placed", placed)
        assert sub.channel == "orders"
        await bus.publish(Event(type="shop.order.cancelled", source="/t"))
        await bus.publish(Event(type="shop.order.placed", source="/t"))
        await wait_until(lambda: sub.stats.received == 2)
    assert got == ["shop.order.placed"]
    assert sub.stats.filtered == 1


async def test_middleware_wraps_publish_and_consume_in_order(memory_url: str) -> None:
    trail: list[str] = []

    class Stamp(Middleware):
        def __init__(self, name: str) -> None:
            self.name = name

        async def on_publish(self, event: Event[Any], call_next: Any) -> None:
            trail.append(f"pub:{self.name}")
            await call_next(event.with_extensions(**{f"via{self.name}": "yes"}))

        async def on_consume(
            self, event: Event[Any], context: ConsumeContext, call_next: Any
        ) -> None:
            trail.append(f"con:{self.name}")
            await call_next(event, context)

    seen: list[Event[Any]] = []
    async with EventBus(memory_url, middleware=[Stamp("a"), Stamp("b")]) as bus:

        async def handler(event: Event[Any]) -> None:
            seen.append(event)

        await bus.subscribe("m.w", handler)
        await bus.publish(Event(type="m.w", source="/t"))
        await wait_until(lambda: len(seen) == 1)
    assert trail == ["pub:a", "pub:b", "con:a", "con:b"]
    assert seen[0].extensions == {"viaa": "yes", "viab": "yes"}


async def test_max_in_flight_bounds_concurrent_handlers(memory_url: str) -> None:
    running = peak = done = 0
    async with EventBus(memory_url) as bus:

        async def handler(event: Event[Any]) -> None:
            nonlocal running, peak, done
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.005)
            running -= 1
            done += 1

        await bus.subscribe("load.test", handler, max_in_flight=3)
        await bus.publish_many(Event(type="load.test", source="/t") for _ in range(30))
        await wait_until(lambda: done == 30)
    assert peak == 3


async def test_sync_handlers_run_in_threads_and_see_typed_data(memory_url: str) -> None:
    import threading

    threads: set[str] = set()
    got: list[Order] = []
    async with EventBus(memory_url) as bus:

        def handler(event: Event[Order]) -> None:
            threads.add(threading.current_thread().name)
            assert event.data is not None
            got.append(event.data)

        await bus.subscribe("sync.h", handler)
        await bus.publish(Event(type="sync.h", source="/t", data=Order("o", 1)))
        await wait_until(lambda: len(got) == 1)
    assert got == [Order("o", 1)]
    assert threading.main_thread().name not in threads


async def test_unsupported_semantic_fails_at_subscribe(memory_url: str) -> None:
    from eventbus import Capabilities, Support
    from eventbus._memory import MemoryAdapter

    class NoGroups(MemoryAdapter):
        @property
        def capabilities(self) -> Capabilities:
            base = super().capabilities
            semantics = dict(base.semantics)
            semantics[Semantic.CONSUMER_GROUPS] = Support.UNSUPPORTED
            semantics[Semantic.WILDCARD_SUBSCRIBE] = Support.UNSUPPORTED
            return Capabilities(semantics=semantics, limits=base.limits, binding=base.binding)

    bus = EventBus(NoGroups())
    with pytest.raises(UnsupportedSemanticError, match="consumer-groups"):
        bus.subscribe("a.b", lambda event: None, group="g")
    with pytest.raises(UnsupportedSemanticError, match="Router"):
        bus.subscribe("a.*", lambda event: None)


async def test_pattern_matching_its_own_dead_letter_channel_is_rejected(memory_url: str) -> None:
    bus = EventBus(memory_url)
    with pytest.raises(ConfigurationError, match="dead-letter channel"):
        bus.subscribe("shop.>", lambda event: None)
    sub = bus.subscribe("shop.>", lambda event: None, dead_letter_channel="dlq.shop")
    assert sub.dead_letter_channel == "dlq.shop"


@pytest.mark.parametrize("mode", list(ContentMode))
async def test_retry_uses_backoff_and_dead_letters_with_failure_recorded(
    memory_url: str, mode: ContentMode
) -> None:
    dead: list[Event[Any]] = []
    attempts: list[int] = []
    policy = RetryPolicy(max_attempts=4, initial_delay=0.01, jitter=0)
    async with EventBus(memory_url, retry=policy, content_mode=mode) as bus:

        async def always_fails(event: Event[Any], context: ConsumeContext) -> None:
            attempts.append(context.attempt)
            raise KeyError("missing sku")

        sub = await bus.subscribe("inv.reserve", always_fails, group="inventory")

        async def reader(event: Event[Any]) -> None:
            dead.append(event)

        await bus.subscribe(
            ">", reader, channel="inv.reserve.dlq", group="dlq", dead_letter_channel=False
        )
        await bus.publish(Event(type="inv.reserve", source="/t", data={"sku": "x"}))
        await wait_until(lambda: len(dead) == 1)
    assert attempts == [1, 2, 3, 4]
    assert sub.stats.retried == 3
    ext = dead[0].extensions
    assert ext["deadletterreason"] == "handler-error"
    assert ext["deadlettererrortype"] == "KeyError"
    assert "missing sku" in str(ext["deadlettererror"])
    assert ext["deadletterattempts"] in (4, "4")
    assert ext["deadletterchannel"] == "inv.reserve"
    assert dead[0].data == {"sku": "x"}


async def test_duplicate_deliveries_from_fault_injection_reach_the_handler() -> None:
    """At-least-once means duplicates happen; the fault injector makes them reproducible."""
    seen: list[str] = []
    async with EventBus("memory://dups?seed=3&duplicate=0.5") as bus:

        async def handler(event: Event[Any]) -> None:
            seen.append(event.id)

        await bus.subscribe("dup.test", handler)
        events = [Event(type="dup.test", source="/t") for _ in range(40)]
        await bus.publish_many(events)
        await wait_until(lambda: set(seen) == {e.id for e in events})
        await asyncio.sleep(0.1)
    assert len(seen) > len(events), "no duplicate was injected"


async def test_subscribe_on_an_open_bus_returns_an_awaitable_subscription(memory_url: str) -> None:
    got: list[str] = []
    async with EventBus(memory_url) as bus:

        async def handler(event: Event[Any]) -> None:
            got.append(event.id)

        sub = await bus.subscribe("late.sub", handler)
        assert sub in bus.subscriptions
        event = Event(type="late.sub", source="/t")
        await bus.publish(event)
        await wait_until(lambda: got == [event.id])
        assert await sub.close()
        await bus.publish(Event(type="late.sub", source="/t"))
        await asyncio.sleep(0.05)
    assert got == [event.id]


async def test_rejected_event_is_dead_lettered_at_once_with_its_reason(memory_url: str) -> None:
    from eventbus import RejectedEventError

    calls = 0
    dead: list[Event[Any]] = []
    async with EventBus(memory_url, retry=RetryPolicy(max_attempts=5)) as bus:

        async def strict(event: Event[Any]) -> None:
            nonlocal calls
            calls += 1
            raise RejectedEventError("/amount: must be >= 0", reason="validation-error")

        sub = await bus.subscribe("rej.test", strict)
        await bus.subscribe(
            ">", dead.append, channel="rej.test.dlq", group="dlq", dead_letter_channel=False
        )
        await bus.publish(Event(type="rej.test", source="/t"))
        await wait_until(lambda: len(dead) == 1)
    assert calls == 1
    assert sub.stats.retried == 0
    assert dead[0].extensions["deadletterreason"] == "validation-error"
    assert dead[0].extensions["deadlettererror"] == "/amount: must be >= 0"


async def test_pause_stops_intake_and_resume_continues_without_loss(memory_url: str) -> None:
    got: list[int] = []
    async with EventBus(memory_url) as bus:

        async def handler(event: Event[int]) -> None:
            assert event.data is not None
            got.append(event.data)

        sub = await bus.subscribe("pause.test", handler, group="g", max_in_flight=1)
        await bus.publish(Event(type="pause.test", source="/t", data=0))
        await wait_until(lambda: got == [0])
        sub.pause()
        assert sub.paused
        await bus.publish_many(Event(type="pause.test", source="/t", data=i) for i in (1, 2, 3))
        await asyncio.sleep(0.1)
        assert got == [0], "a paused subscription took messages"
        sub.resume()
        await wait_until(lambda: len(got) == 4)
    assert got == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "url",
    [
        "servicebus://?connection_string=Endpoint%3Dsb%3A%2F%2Fh%3BSharedAccessKey%3Ds3cret",
        "servicebus://ns?conn=Endpoint=sb://h;SharedAccessKeyName=k;SharedAccessKey=s3cret",
        "nats://user:s3cret@localhost:4222",
        "pubsub://p?credentials_token=s3cret",
    ],
)
def test_redact_url_hides_every_secret_form(url: str) -> None:
    from eventbus import redact_url

    assert "s3cret" not in redact_url(url)
