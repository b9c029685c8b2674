"""msgspec Structs, dataclasses and pydantic v2 models as event data: the same round trip in
both content modes, and data that does not fit becomes a ``data-error`` dead letter naming the
field. pydantic is imported only by code that uses it."""

from __future__ import annotations

import asyncio
import dataclasses
import subprocess
import sys
from typing import Any

import msgspec
import pydantic
import pytest

from eventbus import ContentMode, DataDecodeError, Event, EventBus, decode, encode


class StructOrder(msgspec.Struct):
    order_id: str
    amount_cents: int
    tags: list[str] = []


@dataclasses.dataclass
class DataclassOrder:
    order_id: str
    amount_cents: int
    tags: list[str] = dataclasses.field(default_factory=list)


class PydanticOrder(pydantic.BaseModel):
    order_id: str
    amount_cents: int = pydantic.Field(ge=0)
    tags: list[str] = []


MODELS = [StructOrder, DataclassOrder, PydanticOrder]


@pytest.mark.parametrize("mode", list(ContentMode))
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
async def test_models_round_trip_through_the_bus(
    memory_url: str, model: Any, mode: ContentMode
) -> None:
    received: asyncio.Queue[Event[Any]] = asyncio.Queue()
    async with EventBus(memory_url, content_mode=mode) as bus:

        async def handle(event: Event[Any]) -> None:
            await received.put(event)

        await bus.subscribe("shop.order.placed", handle, data_type=model)
        sent = model(order_id="o-1", amount_cents=42, tags=["gift"])
        await bus.publish(Event(type="shop.order.placed", source="/shop", data=sent))
        event = await asyncio.wait_for(received.get(), 30)
    assert type(event.data) is model
    assert event.data == sent


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
@pytest.mark.parametrize("binding", ["ce-headers", "pubsub", "amqp"])
def test_models_round_trip_through_every_binding(model: Any, binding: str) -> None:
    sent = model(order_id="o-1", amount_cents=42, tags=["a", "b"])
    for mode in ContentMode:
        message = encode(Event(type="t", source="/s", data=sent), binding, mode)
        assert decode(message, binding, model).data == sent
        assert decode(message, binding).data == {
            "order_id": "o-1",
            "amount_cents": 42,
            "tags": ["a", "b"],
        }


@pytest.mark.parametrize("mode", list(ContentMode))
def test_a_pydantic_validation_error_names_the_field(mode: ContentMode) -> None:
    bad = Event(type="t", source="/s", data={"order_id": "o-1", "amount_cents": -5})
    message = encode(bad, "ce-headers", mode)
    with pytest.raises(DataDecodeError) as err:
        decode(message, "ce-headers", PydanticOrder)
    assert "greater than or equal to 0" in str(err.value)
    assert err.value.where == "data $.amount_cents"
    nested = Event(type="t", source="/s", data={"order_id": "o", "amount_cents": 1, "tags": [1]})
    with pytest.raises(DataDecodeError) as err:
        decode(encode(nested, "ce-headers", mode), "ce-headers", PydanticOrder)
    assert err.value.where == "data $.tags[0]"


async def test_data_that_fails_pydantic_validation_is_a_data_error_dead_letter(
    memory_url: str,
) -> None:
    dead: asyncio.Queue[Event[Any]] = asyncio.Queue()
    handled: list[PydanticOrder] = []
    async with EventBus(memory_url) as bus:

        @bus.subscribe("shop.order.placed", group="billing")
        async def bill(event: Event[PydanticOrder]) -> None:
            handled.append(event.payload)

        async def read_dead(event: Event[Any]) -> None:
            await dead.put(event)

        await bus.subscribe(
            ">", read_dead, channel="shop.order.placed.dlq", dead_letter_channel=False
        )
        await bus.subscriptions[0]
        await bus.publish(Event(type="shop.order.placed", source="/shop", data={"order_id": "o-1"}))
        letter = await asyncio.wait_for(dead.get(), 30)
    assert handled == []
    assert letter.extensions["deadletterreason"] == "data-error"
    assert "amount_cents" in str(letter.extensions["deadlettererror"])
    assert "Field required" in str(letter.extensions["deadlettererror"])
    assert letter.data == {"order_id": "o-1"}


def test_pydantic_is_imported_only_when_used() -> None:
    code = (
        "import asyncio, sys\n"
        "from eventbus import Event, EventBus\n"
        "async def main():\n"
        "    async with EventBus('memory://') as bus:\n"
        "        await bus.publish(Event(type='t', source='/s', data={'a': 1}))\n"
        "asyncio.run(main())\n"
        "print('pydantic' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
