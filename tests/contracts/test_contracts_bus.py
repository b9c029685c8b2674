"""Contract validation in the bus: publish refuses invalid data, consume dead-letters it."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import msgspec
import pytest

from eventbus import (
    ConsumeContext,
    Event,
    EventBus,
    Registry,
    SchemaValidationError,
    UnknownSchemaError,
    ValidationMiddleware,
)
from eventbus.testing import wait_until

ORDER = "com.example.shop.order.placed"
GOOD = {"order_id": "o-1", "customer": "ada", "amount_cents": 4200, "currency": "EUR"}
BAD = {"order_id": "1", "customer": "", "amount_cents": -1}


def order(data: Any, **attrs: Any) -> Event[Any]:
    return Event(type=ORDER, source="/test", data=data, **attrs)


async def collect(bus: EventBus, event_type: str, **options: Any) -> list[Event[Any]]:
    got: list[Event[Any]] = []

    async def handler(event: Event[Any]) -> None:
        got.append(event)

    await bus.subscribe(event_type, handler, **options)
    return got


async def dead_letters(bus: EventBus, channel: str) -> list[Event[Any]]:
    got: list[Event[Any]] = []
    await bus.subscribe(
        ">", got.append, channel=f"{channel}.dlq", group="dlq", dead_letter_channel=False
    )
    return got


async def test_publish_refuses_invalid_data_with_every_pointer_and_sends_nothing(
    shipped: Registry, memory_url: str
) -> None:
    async with EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus:
        got = await collect(bus, ORDER, group="g")
        with pytest.raises(SchemaValidationError) as info:
            await bus.publish(order(BAD))
        assert set(info.value.pointers) == {"/order_id", "/customer", "/amount_cents"}
        assert info.value.version == 3
        with pytest.raises(SchemaValidationError):
            await bus.publish_many([order(GOOD), order(BAD)])  # the batch is refused whole
        await bus.publish(order(GOOD))
        await wait_until(lambda: len(got) == 1)
        await asyncio.sleep(0.05)
    assert [e.data for e in got] == [GOOD]


async def test_published_events_get_the_dataschema_they_were_checked_against(
    shipped: Registry, memory_url: str
) -> None:
    async with EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus:
        got = await collect(bus, ORDER)
        await bus.publish(order(GOOD))
        v2 = shipped.dataschema(ORDER, 2)
        await bus.publish(order(GOOD, dataschema=v2))
        await wait_until(lambda: len(got) == 2)
    assert [e.dataschema for e in got] == [shipped.dataschema(ORDER, 3), v2]


async def test_the_version_named_by_dataschema_is_the_one_checked(
    shipped: Registry, memory_url: str
) -> None:
    v1 = shipped.dataschema(ORDER, 1)
    async with EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus:
        with pytest.raises(SchemaValidationError, match=r"v1 does not match.*/currency"):
            await bus.publish(order(GOOD, dataschema=v1))  # v1 is closed and has no currency
        with pytest.raises(UnknownSchemaError, match="does not resolve"):
            await bus.publish(order(GOOD, dataschema="https://elsewhere.example/v1.json"))


async def test_deprecated_versions_and_types_carry_the_deprecation_extension(
    shipped: Registry, memory_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    v1 = shipped.dataschema(ORDER, 1)
    data = {"order_id": "o-1", "customer": "ada", "amount_cents": 1}
    async with EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus:
        got = await collect(bus, ORDER)
        shipped_events = await collect(bus, "com.example.shop.order.shipped")
        with caplog.at_level(logging.WARNING, logger="eventbus.contracts"):
            await bus.publish(order(data, dataschema=v1))
            await bus.publish(order(data, dataschema=v1))
            await bus.publish(
                Event(type="com.example.shop.order.shipped", source="/t", data={"order_id": "o-1"})
            )
        await wait_until(lambda: len(got) == 2 and len(shipped_events) == 1)
    ext = {k: str(v) for k, v in got[0].extensions.items()}  # canonical strings on the wire
    assert ext["deprecated"] == "true"
    assert ext["deprecationfrom"].startswith("2025-03-01T00:00:00")
    legacy = {k: str(v) for k, v in shipped_events[0].extensions.items()}
    assert legacy["deprecationmigration"] == shipped.dataschema(
        "com.example.shop.shipping.dispatched", 2
    )
    assert legacy["deprecationsunset"].startswith("2030-01-01")
    warnings = [r.getMessage() for r in caplog.records if "deprecated" in r.getMessage()]
    assert len(warnings) == 2  # once per type and version, not per event


async def test_consume_dead_letters_invalid_data_and_the_subscription_goes_on(
    shipped: Registry, memory_url: str
) -> None:
    async with (
        EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus,
        EventBus(memory_url) as legacy,  # a producer that does not validate
    ):
        got = await collect(bus, ORDER, group="payments")
        dead = await dead_letters(bus, ORDER)
        await legacy.publish(order(BAD, subject="bad"))
        await legacy.publish(order(GOOD, subject="good"))
        await wait_until(lambda: len(dead) == 1 and len(got) == 1)
    assert got[0].subject == "good"
    ext = dead[0].extensions
    assert dead[0].subject == "bad"
    assert ext["deadletterreason"] == "validation-error"
    assert str(ext["deadletterattempts"]) == "1"
    error = str(ext["deadlettererror"])
    for pointer in ("/order_id", "/customer", "/amount_cents"):
        assert pointer in error


class Typed(msgspec.Struct):
    order_id: str
    currency: str = "EUR"


async def test_consume_checks_the_data_as_sent_not_the_typed_view(
    tmp_path: Path, memory_url: str
) -> None:
    """A typed handler sees the Struct's default; validation still sees the member missing."""
    (tmp_path / "com.example.t").mkdir()
    schema = {"type": "object", "required": ["order_id", "currency"]}
    (tmp_path / "com.example.t" / "v1.schema.json").write_text(json.dumps(schema))
    registry = Registry(tmp_path)
    handled: list[Typed] = []
    async with (
        EventBus(memory_url, middleware=[ValidationMiddleware(registry)]) as bus,
        EventBus(memory_url) as legacy,
    ):

        async def handler(event: Event[Typed]) -> None:
            assert event.data is not None
            handled.append(event.data)

        await bus.subscribe("com.example.t", handler)
        dead = await dead_letters(bus, "com.example.t")
        await legacy.publish(Event(type="com.example.t", source="/t", data={"order_id": "a"}))
        await legacy.publish(
            Event(type="com.example.t", source="/t", data={"order_id": "b", "currency": "USD"})
        )
        await wait_until(lambda: len(dead) == 1 and len(handled) == 1)
    assert handled == [Typed("b", "USD")]
    assert "/currency" in str(dead[0].extensions["deadlettererror"])


async def test_validation_can_be_switched_per_subscription(
    shipped: Registry, memory_url: str
) -> None:
    def only_payments(ctx: ConsumeContext) -> bool:
        return ctx.group != "audit"

    middleware = ValidationMiddleware(shipped, consume=only_payments)
    async with EventBus(memory_url, middleware=[middleware]) as bus, EventBus(memory_url) as legacy:
        payments = await collect(bus, ORDER, group="payments")
        audit = await collect(bus, ORDER, group="audit")
        dead = await dead_letters(bus, ORDER)
        await legacy.publish(order(BAD))
        await wait_until(lambda: len(audit) == 1 and len(dead) == 1)
        await asyncio.sleep(0.05)
    assert payments == []


async def test_type_patterns_directions_and_required_contracts(
    shipped: Registry, memory_url: str
) -> None:
    only_payments = ValidationMiddleware(shipped, types="com.example.shop.payment.>")
    async with EventBus(memory_url, middleware=[only_payments]) as bus:
        await bus.publish(order(BAD))  # not a payment type: not checked
        with pytest.raises(SchemaValidationError, match="/amount_cents"):
            await bus.publish(
                Event(
                    type="com.example.shop.payment.captured",
                    source="/t",
                    data={"order_id": "o-1", "amount_cents": 0},
                )
            )
    async with EventBus(
        memory_url, middleware=[ValidationMiddleware(shipped, publish=False)]
    ) as bus:
        await bus.publish(order(BAD))
    async with EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus:
        await bus.publish(Event(type="com.example.nocontract", source="/t", data=1))  # allowed
    async with EventBus(
        memory_url, middleware=[ValidationMiddleware(shipped, require_contract=True)]
    ) as bus:
        with pytest.raises(UnknownSchemaError, match="has no contract"):
            await bus.publish(Event(type="com.example.nocontract", source="/t", data=1))


async def test_non_json_data_breaks_a_json_contract(shipped: Registry, memory_url: str) -> None:
    async with EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus:
        with pytest.raises(SchemaValidationError, match="not JSON"):
            await bus.publish(order(b"\x00", datacontenttype="application/octet-stream"))
        as_json = "application/json"
        await bus.publish(order(json.dumps(GOOD).encode(), datacontenttype=as_json))  # parsed
        with pytest.raises(SchemaValidationError, match="not valid JSON"):
            await bus.publish(order(b"{nope", datacontenttype=as_json))


async def test_unknown_dataschema_on_consume_is_dead_lettered(
    shipped: Registry, memory_url: str
) -> None:
    async with (
        EventBus(memory_url, middleware=[ValidationMiddleware(shipped)]) as bus,
        EventBus(memory_url) as legacy,
    ):
        await collect(bus, ORDER)
        dead = await dead_letters(bus, ORDER)
        await legacy.publish(order(GOOD, dataschema="https://elsewhere.example/order.json"))
        await wait_until(lambda: len(dead) == 1)
    assert dead[0].extensions["deadletterreason"] == "unknown-schema"


def test_middleware_takes_a_registry_path() -> None:
    middleware = ValidationMiddleware(Path(__file__).resolve().parents[2] / "contracts")
    assert ORDER in middleware.registry.types
