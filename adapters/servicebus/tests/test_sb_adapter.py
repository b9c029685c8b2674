"""URLs and configuration, secrets, header mapping, queues with scheduled redelivery, the native
dead-letter sub-queue, and provisioning (against a recording stand-in for the admin client)."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import pytest
from eventbus_servicebus import ServiceBusAdapter, ServiceBusConfig, parse_servicebus_url
from eventbus_servicebus._convert import from_received, to_servicebus
from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url

from eventbus import Event, EventBus, RetryPolicy
from eventbus.adapter import (
    BrokerConnectionError,
    ConfigurationError,
    Delivery,
    Message,
    Semantic,
    SubscriptionSpec,
    Support,
)
from eventbus.testing import wait_until

KEY = "c2VjcmV0K2tleS9wYXJ0PQ=="  # holds '+', '/' and '='
CONN = f"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=app;SharedAccessKey={KEY}"


# -- configuration ------------------------------------------------------------------------------


def test_url_forms() -> None:
    keyed = parse_servicebus_url("servicebus://app:c2VjcmV0K2tleS9wYXJ0PQ%3D%3D@ns?provision=true")
    assert keyed.connection_string == CONN
    assert keyed.provision and not keyed.sessions
    local = parse_servicebus_url(
        "servicebus://k:v@127.0.0.1:5672?emulator=true&sessions=true&queues=a,b"
    )
    assert local.emulator and local.sessions and local.queues == {"a", "b"}
    assert local.fully_qualified_namespace == "127.0.0.1:5672"
    identity = parse_servicebus_url("servicebus://my-ns")
    assert identity.namespace == "my-ns" and identity.connection_string is None
    assert identity.fully_qualified_namespace == "my-ns.servicebus.windows.net"


def test_connection_string_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SB_CONN", CONN)
    assert (
        parse_servicebus_url("servicebus://?connection_string_env=SB_CONN").connection_string
        == CONN
    )
    with pytest.raises(ConfigurationError, match="NOPE"):
        parse_servicebus_url("servicebus://?connection_string_env=NOPE")


@pytest.mark.parametrize(
    "url",
    [
        "servicebus://",
        "servicebus://ns?unknown=1",
        "servicebus://ns?sessions=maybe",
        "servicebus://ns?receive_wait=0",
        "servicebus://app@ns",
        "servicebus://ns/path",
        "servicebus://ns?emulator=true",
    ],
)
def test_bad_urls_are_configuration_errors(url: str) -> None:
    with pytest.raises(ConfigurationError):
        parse_servicebus_url(url)


def test_capabilities() -> None:
    caps = ServiceBusAdapter(ServiceBusConfig(connection_string=CONN)).capabilities
    assert caps.binding == "amqp"
    assert caps.support(Semantic.ORDERING_KEY) is Support.NATIVE  # sessions where asked
    assert caps.support(Semantic.DEAD_LETTER) is Support.EMULATED
    big = ServiceBusConfig(connection_string=CONN, max_message_bytes=1_000_000)
    assert ServiceBusAdapter(big).capabilities.limits.max_message_bytes == 1_000_000


# -- secrets ------------------------------------------------------------------------------------


def test_the_key_is_never_shown() -> None:
    config = ServiceBusConfig(connection_string=CONN)
    adapter = ServiceBusAdapter(config)
    url = "servicebus://app:c2VjcmV0K2tleS9wYXJ0PQ%3D%3D@ns"
    shown = [repr(config), repr(adapter), config.describe(), repr(EventBus(url))]
    for text in shown:
        assert KEY not in text and "c2VjcmV0K2tleS9wYXJ0PQ" not in text, text
    with pytest.raises(ConfigurationError) as info:
        ServiceBusConfig(connection_string=CONN.replace("Endpoint=", "Endpoint"))
    assert KEY not in str(info.value)


def test_errors_and_logs_hold_no_key(
    sb_broker: ServiceBusTestBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "d3JvbmcrL2tleT0="
    url = sb_url(sb_broker, retry_total=0).replace(
        sb_broker.namespace.key.replace("=", "%3D"),
        wrong.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D"),
    )

    async def scenario() -> BrokerConnectionError:
        async with EventBus(url) as bus:
            with pytest.raises(BrokerConnectionError) as info:
                await bus.publish(Event(type=f"sec.t{uuid.uuid4().hex[:6]}", source="/s"))
            return info.value

    error = asyncio.run(asyncio.wait_for(scenario(), 60))
    texts = [str(error), repr(error), caplog.text, str(error.__cause__ or "")]
    for text in texts:
        assert wrong not in text and "d3JvbmcrL2tleT0" not in text
    assert "127.0.0.1" in str(error)


# -- header mapping -----------------------------------------------------------------------------


def test_headers_map_to_properties_and_back() -> None:
    message = Message(
        headers={"content-type": "application/json", "cloudEvents_id": "1", "cloudEvents_n": 7},
        body=b"{}",
        key="k",
        dedupe_id="1",
    )
    out = to_servicebus(message)
    assert out.content_type == "application/json"
    # an int goes out as an AMQP long (the SDK's typed-value form), as the binding maps Integer
    assert out.application_properties == {
        "cloudEvents_id": "1",
        "cloudEvents_n": {"TYPE": "LONG", "VALUE": 7},
    }
    assert (out.message_id, out.session_id) == ("1", "k")
    assert to_servicebus(Message(headers={}, body=b"")).session_id == "eventbus-unkeyed"

    class Received:  # what the SDK hands over: bytes names and string values
        application_properties = {
            b"cloudEvents_id": b"1",
            b"cloudEvents_bin": b"\xff",
            b"eventbus-attempts": 2,
        }
        content_type = "application/json"
        session_id = "k"
        message_id = "1"
        body = iter([b"{", b"}"])

    back, earlier = from_received(Received())  # type: ignore[arg-type]
    assert back.headers == {
        "cloudEvents_id": "1",
        "cloudEvents_bin": b"\xff",
        "content-type": "application/json",
    }
    assert (back.body, back.key, earlier) == (b"{}", "k", 2)
    Received.body = None  # type: ignore[assignment]  # no body section
    assert from_received(Received())[0].body == b""  # type: ignore[arg-type]


# -- queues, scheduled redelivery, native dead letters --------------------------------------------


def test_queue_channel_redelivers_a_scheduled_copy(sb_broker: ServiceBusTestBroker) -> None:
    channel = f"q.t{uuid.uuid4().hex[:8]}"
    sb_broker.create_queue(channel)
    url = sb_url(sb_broker, queues=channel)
    seen: list[tuple[int, float]] = []

    async def scenario() -> None:
        policy = RetryPolicy(max_attempts=3, initial_delay=0.5, jitter=0.0)
        async with EventBus(url, retry=policy) as bus:

            async def flaky(event: Event[Any], context: Any) -> None:
                seen.append((context.attempt, time.monotonic()))
                if len(seen) == 1:
                    raise RuntimeError("later")

            with pytest.raises(ConfigurationError, match="queue"):
                await bus.subscribe(channel, flaky)  # a queue has one consumer group, no fan-out
            sub = bus.subscribe(channel, flaky, group="workers", dead_letter_channel=False)
            await sub
            await bus.publish(Event(type=channel, source="/q"))
            await wait_until(lambda: sub.stats.handled == 1, timeout=20)
            assert sb_broker.count(channel)["scheduled"] == 0

    asyncio.run(asyncio.wait_for(scenario(), 60))
    assert [attempt for attempt, _ in seen] == [1, 2]
    assert seen[1][1] - seen[0][1] >= 0.45


def test_native_dead_letters_land_in_the_sub_queue(sb_broker: ServiceBusTestBroker) -> None:
    channel = f"dl.t{uuid.uuid4().hex[:8]}"
    url = sb_url(sb_broker, native_dead_letter=True)

    async def scenario() -> list[Message]:
        async with EventBus(url, retry=RetryPolicy(max_attempts=1)) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("bad data")

            sub = bus.subscribe(channel, poison, group="billing")
            await sub
            await bus.publish(Event(type=channel, source="/dl"))
            await wait_until(lambda: sub.stats.dead_lettered == 1)
        got: list[Message] = []
        adapter = ServiceBusAdapter.from_url(url)
        await adapter.connect()
        try:

            async def take(delivery: Delivery) -> None:
                got.append(delivery.message)
                await delivery.ack()

            spec = SubscriptionSpec(channel=channel, group="billing/$DeadLetterQueue")
            reader = await adapter.subscribe(spec, take)
            await wait_until(lambda: len(got) == 1)
            await reader.close()
        finally:
            await adapter.close()
        return got

    (dead,) = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert dead.headers["DeadLetterReason"] == "handler-error"
    assert dead.headers["DeadLetterErrorDescription"] == "ValueError: bad data"
    assert dead.headers["cloudEvents:type"] == channel


# -- provisioning -------------------------------------------------------------------------------


class RecordingAdmin:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args, kwargs))

        return record


def test_provision_creates_topics_and_subscriptions(sb_broker: ServiceBusTestBroker) -> None:
    admin = RecordingAdmin()
    config = parse_servicebus_url(sb_url(sb_broker, provision=True, sessions=False))
    channel = f"p.t{uuid.uuid4().hex[:8]}"

    async def scenario() -> None:
        adapter = ServiceBusAdapter(config, admin_client=admin)
        await adapter.connect()
        try:

            async def take(delivery: Delivery) -> None:
                await delivery.ack()

            spec = SubscriptionSpec(channel=channel, dead_letter_channel=f"{channel}.dlq")
            sub = await adapter.subscribe(spec, take)
            await adapter.publish(channel, [Message(headers={}, body=b"x")])
            await sub.close()
        finally:
            await adapter.close()

    asyncio.run(asyncio.wait_for(scenario(), 60))
    names = [(name, args[:2]) for name, args, _ in admin.calls]
    assert ("create_topic", (channel,)) in names
    assert ("create_subscription", (f"{channel}.dlq", "dlq")) in names
    fan_out = next(
        args
        for name, args, _ in admin.calls
        if name == "create_subscription" and args[0] == channel
    )
    assert fan_out[1].startswith("eb-")
    assert ("delete_subscription", fan_out) in names  # the fan-out subscription goes on close
    options = next(kw for name, args, kw in admin.calls if name == "create_topic")
    assert options["requires_duplicate_detection"] is True


def test_message_id_dedupes_a_resent_event_but_not_another_source(
    sb_broker: ServiceBusTestBroker,
) -> None:
    """MessageId comes from the event's source and id: a re-sent event is dropped by duplicate
    detection, the same id from another producer is a different event."""
    url = sb_url(sb_broker)  # the test broker detects duplicates on every entity
    channel = f"dedupe.t{uuid.uuid4().hex[:8]}"

    async def scenario() -> list[tuple[str, str]]:
        got: list[tuple[str, str]] = []
        async with EventBus(url) as bus:

            async def handler(event: Event[Any]) -> None:
                got.append((event.source, event.id))

            await bus.subscribe(channel, handler, group="audit", max_in_flight=1)
            sent = Event(type=channel, source="/producer-a", id="42")
            await bus.publish(sent)
            await bus.publish(sent)  # a retry: duplicate detection drops it
            await bus.publish(Event(type=channel, source="/producer-b", id="42"))
            await bus.publish(Event(type=channel, source="/marker", id="last"))
            await wait_until(lambda: ("/marker", "last") in got, timeout=30, what="the marker")
        return got

    got = asyncio.run(asyncio.wait_for(scenario(), 90))
    assert got == [("/producer-a", "42"), ("/producer-b", "42"), ("/marker", "last")]
