"""What the adapter puts on the wire decodes with the official ``cloudevents`` SDK's AMQP binding;
and what the SDK's binding writes (sent with the raw azure-servicebus SDK) reaches a handler.

The oracle's ``AMQPMessage`` is built from the AMQP message the test broker received: its
properties section, its application properties and its data section.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from azure.servicebus import ServiceBusMessage
from azure.servicebus.aio import ServiceBusClient
from cloudevents.core.bindings import amqp as sdk_amqp
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url

from eventbus import ContentMode, Event, EventBus
from eventbus.adapter import broker_dedupe_id
from eventbus.testing import wait_until

FMT = JSONFormat()


def oracle_message(received: Any) -> sdk_amqp.AMQPMessage:
    """The official SDK's view of a proton Message the broker received."""
    properties: dict[str, Any] = {}
    if received.content_type:
        properties["content-type"] = received.content_type
    if received.id is not None:
        properties["message-id"] = received.id
    body = received.body
    data = bytes(body) if isinstance(body, bytes | memoryview | bytearray) else b""
    return sdk_amqp.AMQPMessage(properties, dict(received.properties or {}), data)


async def publish(url: str, mode: ContentMode, event: Event[Any]) -> None:
    async with EventBus(url, content_mode=mode) as bus:
        await bus.publish(event)


def test_adapter_output_decodes_with_the_cloudevents_sdk(sb_broker: ServiceBusTestBroker) -> None:
    channel = f"interop.t{uuid.uuid4().hex[:8]}"
    sent = {
        mode: Event(
            type=channel,
            source="/interop",
            subject="s-1",
            data={"n": 1, "mode": mode.value},
            extensions={"tenant": "acme", "priority": 3, "partitionkey": "k-1"},
        )
        for mode in ContentMode
    }
    url = sb_url(sb_broker)
    for mode, event in sent.items():
        asyncio.run(publish(url, mode, event))
    received = sb_broker.received(channel)
    assert len(received) == 2
    binary, structured = received
    assert binary.content_type == "application/json"
    # the default prefix is the one sdk-go and Java read (docs/interop.md)
    assert "cloudEvents:id" in binary.properties and "content-type" not in binary.properties
    # Integer -> AMQP long (proton reads an AMQP int as its int32 type, a long as int)
    assert type(binary.properties["cloudEvents:priority"]) is int
    expected_id = broker_dedupe_id(sent[ContentMode.BINARY].source, sent[ContentMode.BINARY].id)
    assert binary.id == expected_id  # MessageId = the dedupe id (duplicate detection)
    assert binary.group_id == "k-1"  # SessionId = partition key
    for message, event in (
        (binary, sent[ContentMode.BINARY]),
        (structured, sent[ContentMode.STRUCTURED]),
    ):
        theirs = sdk_amqp.from_amqp(oracle_message(message), FMT)
        assert theirs.get_id() == event.id
        assert theirs.get_type() == event.type
        assert theirs.get_source() == event.source
        assert theirs.get_subject() == "s-1"
        assert theirs.get_data() in (event.data, FMT.write_data(event.data, "application/json"))
        assert theirs.get_extension("tenant") == "acme"
        assert int(theirs.get_extension("priority")) == 3
    assert structured.content_type.startswith("application/cloudevents+json")


def test_cloudevents_sdk_output_reaches_a_handler(sb_broker: ServiceBusTestBroker) -> None:
    channel = f"interop.t{uuid.uuid4().hex[:8]}"
    theirs = CloudEvent(
        {
            "type": channel,
            "source": "/sdk",
            "id": "sdk-1",
            "time": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
            "datacontenttype": "application/json",
            "region": "eu",
        },
        {"hello": "world"},
    )
    wire = sdk_amqp.to_binary(theirs, FMT)
    # The cloudevents SDK writes the time as int milliseconds (an AMQP timestamp's value);
    # azure-servicebus would encode a Python int as a 32-bit int, so hand it a datetime.
    properties: dict[str | bytes, Any] = {
        k: datetime.fromtimestamp(v / 1000, UTC) if k.endswith("time") and isinstance(v, int) else v
        for k, v in wire.application_properties.items()
    }

    async def scenario() -> list[Event[Any]]:
        got: list[Event[Any]] = []
        async with EventBus(sb_url(sb_broker)) as bus:

            async def handler(event: Event[Any]) -> None:
                got.append(event)

            await bus.subscribe(channel, handler)
            client = ServiceBusClient.from_connection_string(sb_broker.connection_string)
            sender = client.get_topic_sender(channel)
            async with client, sender:
                await sender.send_messages(
                    ServiceBusMessage(
                        wire.application_data,
                        application_properties=properties,
                        content_type=wire.properties.get("content-type"),
                    )
                )
            await wait_until(lambda: len(got) == 1, what="the SDK's event")
        return got

    (event,) = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert (event.id, event.type, event.source) == ("sdk-1", channel, "/sdk")
    assert event.time == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert event.data == {"hello": "world"}
    assert event.extensions["region"] == "eu"


def test_amqp_prefix_switch_per_bus_and_channel(sb_broker: ServiceBusTestBroker) -> None:
    channel = f"interop.t{uuid.uuid4().hex[:8]}"
    other = f"{channel}.jms"
    events = [Event(type=t, source="/p", data={"n": 1}) for t in (channel, other)]

    async def scenario(url: str, **options: Any) -> None:
        async with EventBus(url, **options) as bus:
            for event in events:
                await bus.publish(event)

    base = sb_url(sb_broker)
    asyncio.run(scenario(f"{base}&amqp_prefix.{other}=cloudEvents_"))
    asyncio.run(
        scenario(
            base,
            amqp_prefix="cloudEvents_",
            channel_options={other: {"amqp_prefix": "cloudEvents:"}},
        )
    )
    keys = [sorted(m.properties)[0] for e in (channel, other) for m in sb_broker.received(e)]
    # URL run: channel default ":", other "_"; Python run: bus "_", other ":"
    assert [k.split("id")[0] if "id" in k else k[:12] for k in keys] == [
        "cloudEvents:",
        "cloudEvents_",
        "cloudEvents_",
        "cloudEvents:",
    ]


def test_a_message_without_a_body_section_is_an_event_without_data(
    sb_broker: ServiceBusTestBroker,
) -> None:
    from proton import Message as ProtonMessage
    from proton.utils import BlockingConnection

    channel = f"interop.t{uuid.uuid4().hex[:8]}"
    message = ProtonMessage(
        properties={
            "cloudEvents:specversion": "1.0",
            "cloudEvents:id": "no-body-1",
            "cloudEvents:source": "/go",
            "cloudEvents:type": channel,
        }
    )
    assert message.body is None

    async def scenario() -> list[Event[Any]]:
        got: list[Event[Any]] = []
        async with EventBus(sb_url(sb_broker)) as bus:

            async def handler(event: Event[Any]) -> None:
                got.append(event)

            await bus.subscribe(channel, handler)
            connection = BlockingConnection(f"{sb_broker.host}:{sb_broker.port}", timeout=30)
            try:
                connection.create_sender(channel).send(message)
            finally:
                connection.close()
            await wait_until(lambda: len(got) == 1, what="the event")
        return got

    (event,) = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert event.id == "no-body-1"
    assert event.data is None
    assert event.datacontenttype is None
