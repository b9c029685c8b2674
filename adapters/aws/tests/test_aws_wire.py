"""The CloudEvents mapping on SQS: structured by default, binary on request within 10
attributes, checked against the official Python SDK's JSON format and on moto's queues."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from eventbus_aws import SqsAdapter
from eventbus_aws._codec import BODY_ATTRIBUTE, from_sqs, to_aws
from moto_launcher import MotoServer

from eventbus import ContentMode, Event, EventBus, LimitExceededError, decode, encode
from eventbus.adapter import Delivery, Message, SubscriptionSpec

FMT = JSONFormat()
STRUCTURED_CT = "application/cloudevents+json; charset=utf-8"


def sample(**changes: Any) -> Event[Any]:
    base: dict[str, Any] = {
        "type": "com.example.order.placed",
        "source": "/orders",
        "id": "id-1",
        "time": datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC),
        "subject": "order 7 / ünï",
        "data": {"order": 7},
        "extensions": {"traceparent": "00-abc-01", "partitionkey": "cust 1"},
    }
    base.update(changes)
    return Event(**base)


# -- the binding, as pure functions ----------------------------------------------------------


def test_structured_is_one_attribute_and_the_sdk_json_format() -> None:
    ours = sample()
    message = encode(ours, "sqs", ContentMode.STRUCTURED)
    assert dict(message.headers) == {"content-type": STRUCTURED_CT}
    theirs = FMT.read(None, message.body)
    assert (theirs.get_id(), theirs.get_type(), theirs.get_subject()) == (
        ours.id,
        ours.type,
        ours.subject,
    )
    assert theirs.get_extension("partitionkey") == "cust 1"
    assert theirs.get_data() == {"order": 7}


def test_sdk_json_in_a_bare_body_decodes_as_structured() -> None:
    """What Dapr or a hand-written producer puts on SQS: the JSON event, no attributes."""
    theirs = CloudEvent(
        {"type": "t.x", "source": "/s", "id": "i-9", "datacontenttype": "application/json"},
        {"a": [1, 2]},
    )
    ours = decode(Message({}, FMT.write(theirs)), "sqs")
    assert (ours.id, ours.type, ours.data) == ("i-9", "t.x", {"a": [1, 2]})


def test_binary_attributes_are_canonical_strings_as_is() -> None:
    ours = sample(extensions={"note": 'a "quoted" 100% ü', "n": 3})
    message = encode(ours, "sqs", ContentMode.BINARY)
    assert message.headers["ce-note"] == 'a "quoted" 100% ü'  # no percent-encoding
    assert message.headers["ce-subject"] == "order 7 / ünï"
    back = decode(message, "sqs")
    assert back.extensions == {"note": 'a "quoted" 100% ü', "n": "3"}  # typed only in JSON
    assert (back.id, back.subject, back.time, back.data) == (
        ours.id,
        ours.subject,
        ours.time,
        ours.data,
    )


def test_codec_keeps_text_bodies_and_base64s_the_rest() -> None:
    text = to_aws(Message({"ce-id": "x"}, '{"a":"ü"}'.encode()))
    assert text.body == '{"a":"ü"}' and BODY_ATTRIBUTE not in text.attributes
    raw = b"\x00\xff\x01"
    binary = to_aws(Message({}, raw))
    assert base64.b64decode(binary.body) == raw
    assert binary.attributes[BODY_ATTRIBUTE]["StringValue"] == "base64"
    assert from_sqs(binary.body, binary.attributes, None, None).body == raw
    empty = to_aws(Message({"e": ""}, b""))
    assert empty.body  # SNS refuses an empty message
    back = from_sqs(empty.body, empty.attributes, None, None)
    assert back.body == b"" and back.headers == {"e": ""}


def test_codec_limits() -> None:
    with pytest.raises(LimitExceededError) as info:
        to_aws(Message({f"h{i}": "v" for i in range(11)}, b"x"))
    assert info.value.maximum == 10 and info.value.actual == 11
    with pytest.raises(LimitExceededError) as marked:  # the body marker needs the 11th
        to_aws(Message({f"h{i}": "v" for i in range(10)}, b"\xff"))
    assert BODY_ATTRIBUTE in marked.value.limit
    with pytest.raises(LimitExceededError) as big:  # fits the bus's check, not as base64
        to_aws(Message({}, b"\xff" * 200_000))
    assert "base64" in big.value.limit and big.value.maximum == 262_144


# -- on the server -----------------------------------------------------------------------------


async def _raw_messages(url: str, mode: ContentMode | None, event: Event[Any]) -> list[Message]:
    got: list[Message] = []
    adapter = SqsAdapter.from_url(url)
    await adapter.connect()
    try:

        async def take(delivery: Delivery) -> None:
            got.append(delivery.message)
            await delivery.ack()

        sub = await adapter.subscribe(SubscriptionSpec(channel=event.type), take)
        try:
            async with EventBus(url, content_mode=mode) as bus:
                await bus.publish(event)
            for _ in range(200):
                if got:
                    break
                await asyncio.sleep(0.05)
        finally:
            await sub.close()
    finally:
        await adapter.close()
    return got


def test_an_sqs_bus_publishes_structured_by_default(moto: MotoServer) -> None:
    event = sample(type="wire.default.t1")
    (message,) = asyncio.run(_raw_messages(moto.url(wait_time=1), None, event))
    assert dict(message.headers) == {"content-type": STRUCTURED_CT}
    assert json.loads(message.body)["id"] == event.id
    assert decode(message, "sqs") == event


def test_binary_on_request_travels_as_attributes(moto: MotoServer) -> None:
    event = sample(type="wire.binary.t1")
    (message,) = asyncio.run(_raw_messages(moto.url(wait_time=1), ContentMode.BINARY, event))
    assert message.headers["ce-id"] == event.id
    assert message.headers["ce-subject"] == "order 7 / ünï"
    assert json.loads(message.body) == {"order": 7}
    assert decode(message, "sqs") == event


def test_binary_bytes_data_survives_sqs(moto: MotoServer) -> None:
    event = sample(type="wire.bytes.t1", data=b"\x00\xff\x10", datacontenttype="x/y")
    (message,) = asyncio.run(_raw_messages(moto.url(wait_time=1), ContentMode.BINARY, event))
    assert message.body == b"\x00\xff\x10"
    assert BODY_ATTRIBUTE not in message.headers
    assert decode(message, "sqs").data == b"\x00\xff\x10"


def test_binary_event_over_ten_attributes_is_refused_before_sending(moto: MotoServer) -> None:
    event = sample(type="wire.many.t1", extensions={f"x{i}": "v" for i in range(4)})
    assert len(encode(event, "sqs", ContentMode.BINARY).headers) == 11

    async def scenario() -> None:
        async with EventBus(moto.url(), content_mode=ContentMode.BINARY) as bus:
            with pytest.raises(LimitExceededError) as info:
                await bus.publish(event)
            assert info.value.limit == "header count" and info.value.maximum == 10
            async with EventBus(moto.url()) as structured:  # the default takes it
                await structured.publish(event)

    asyncio.run(scenario())
