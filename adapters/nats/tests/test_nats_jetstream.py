"""JetStream behaviour beyond the conformance suite: streams, dedupe, dead letters, durability."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import nats
import pytest
from eventbus_nats import NatsAdapter, NatsConfig, StreamConfig
from eventbus_nats._names import consumer_name
from nats_launcher import NatsServer, free_port

from eventbus import (
    DEAD_LETTER_GROUP,
    BrokerConnectionError,
    ConfigurationError,
    Delivery,
    Event,
    EventBus,
    LimitExceededError,
    Message,
    RetryPolicy,
    SubscriptionSpec,
)
from eventbus.testing import run, wait_until

FAST_RETRY = RetryPolicy(max_attempts=2, initial_delay=0.01, jitter=0.0)


def unique(prefix: str) -> str:
    return f"{prefix}.t{uuid.uuid4().hex[:10]}"


async def stream_info(server: NatsServer, name: str) -> Any:
    nc = await nats.connect(server.url())
    try:
        return await nc.jetstream().stream_info(name)
    finally:
        await nc.close()


def test_template_stream_is_provisioned_per_first_token(nats_server: NatsServer) -> None:
    channel = unique("prov")

    async def scenario() -> None:
        async with EventBus(nats_server.url()) as bus:
            await bus.publish(Event(type=channel, source="/t"))
        info = await stream_info(nats_server, "EVENTBUS_prov")
        assert sorted(info.config.subjects) == ["prov", "prov.>"]
        assert str(info.config.retention) in ("interest", "RetentionPolicy.INTEREST")
        assert info.config.duplicate_window == 120

    run(scenario())


def test_provision_false_names_the_missing_stream(
    start_server: Callable[..., NatsServer],
) -> None:
    server = start_server()

    async def scenario() -> None:
        async with EventBus(server.url("provision=false")) as bus:
            with pytest.raises(ConfigurationError, match="EVENTBUS_absent"):
                await bus.publish(Event(type="absent.thing", source="/t"))
        fixed = NatsConfig(
            servers=(server.address,),
            streams=(StreamConfig(name="ORDERS", subjects=("orders.>",), retention="limits"),),
            provision=False,
        )
        with pytest.raises(ConfigurationError, match="'ORDERS'"):
            await NatsAdapter(fixed).connect()
        # With provisioning, the fixed stream is created and serves its subjects.
        adapter = NatsAdapter(NatsConfig(servers=fixed.servers, streams=fixed.streams))
        async with EventBus(adapter) as bus:
            await bus.publish(Event(type="orders.placed", source="/t"))
            with pytest.raises(ConfigurationError, match="no JetStream stream captures"):
                await bus.publish(Event(type="payments.captured", source="/t"))
        info = await stream_info(server, "ORDERS")
        assert list(info.config.subjects) == ["orders.>"]
        assert str(info.config.retention) in ("limits", "RetentionPolicy.LIMITS")
        assert info.state.messages == 1  # orders.placed, stored; payments.captured refused

    run(scenario())


def test_jetstream_disabled_server_is_a_clear_error(
    start_server: Callable[..., NatsServer],
) -> None:
    server = start_server(jetstream=False)

    async def scenario() -> None:
        with pytest.raises(ConfigurationError, match="-js"):
            async with EventBus(server.url()):
                pass

    run(scenario())


def test_unreachable_server_names_host_and_port() -> None:
    port = free_port()

    async def scenario() -> None:
        with pytest.raises(BrokerConnectionError, match=f"127.0.0.1:{port}"):
            async with EventBus(f"nats://127.0.0.1:{port}"):
                pass

    run(scenario(), timeout=20)


def test_publisher_dedupe_drops_a_resent_message_id(nats_server: NatsServer) -> None:
    channel = unique("dedupe")

    async def scenario() -> None:
        got: list[Message] = []
        adapter = NatsAdapter.from_url(nats_server.url())
        await adapter.connect()
        try:

            async def take(delivery: Delivery) -> None:
                got.append(delivery.message)
                await delivery.ack()

            await adapter.subscribe(SubscriptionSpec(channel=channel), take)
            message = Message({"ce-id": "e-1"}, b"once", dedupe_id="e-1")
            await adapter.publish(channel, [message])
            await adapter.publish(channel, [message, message])
            await adapter.publish(channel, [Message({"ce-id": "e-2"}, b"other", dedupe_id="e-2")])
            await wait_until(lambda: len(got) >= 2)
            await asyncio.sleep(0.3)
        finally:
            await adapter.close()
        assert [m.body for m in got] == [b"once", b"other"]
        assert got[0].headers["Nats-Msg-Id"] == "e-1"

    run(scenario())


def test_group_keeps_messages_while_its_members_are_away(nats_server: NatsServer) -> None:
    channel = unique("away")

    async def scenario() -> None:
        got: list[int] = []

        async def handler(event: Event[int]) -> None:
            assert event.data is not None
            got.append(event.data)

        async with EventBus(nats_server.url()) as bus:
            await bus.subscribe(channel, handler, group="billing")
        async with EventBus(nats_server.url()) as bus:
            await bus.publish_many(Event(type=channel, source="/t", data=i) for i in range(5))
        async with EventBus(nats_server.url()) as bus:
            await bus.subscribe(channel, handler, group="billing")
            await wait_until(lambda: len(got) == 5)
        assert got == [0, 1, 2, 3, 4]

    run(scenario())


def test_dead_letters_wait_for_a_later_reader_and_the_original_is_terminated(
    nats_server: NatsServer,
) -> None:
    channel = unique("dead")

    async def scenario() -> None:
        async with EventBus(nats_server.url(), retry=FAST_RETRY) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("never")

            sub = bus.subscribe(channel, poison, group="svc")
            await sub
            sent = Event(type=channel, source="/t", data={"n": 1})
            await bus.publish(sent)
            await wait_until(lambda: sub.stats.dead_lettered == 1)
            nc = await nats.connect(nats_server.url())
            try:
                consumer = consumer_name("svc", channel)
                info = await nc.jetstream().consumer_info("EVENTBUS_dead", consumer)
            finally:
                await nc.close()
            assert info.num_ack_pending == 0, "the original must be terminated, not pending"
        dead: list[Event[Any]] = []
        async with EventBus(nats_server.url()) as reader:

            async def read(event: Event[Any]) -> None:
                dead.append(event)

            assert sub.dead_letter_channel == f"{channel}.dlq"
            await reader.subscribe(
                ">", read, channel=sub.dead_letter_channel, group=DEAD_LETTER_GROUP
            )
            await wait_until(lambda: len(dead) == 1)
        assert dead[0].id == sent.id
        assert dead[0].extensions["deadletterreason"] == "handler-error"
        assert str(dead[0].extensions["deadletterattempts"]) == "2"

    run(scenario())


def test_server_max_payload_is_the_limit(start_server: Callable[..., NatsServer]) -> None:
    server = start_server(config="max_payload: 65536\n")
    channel = unique("payload")

    async def scenario() -> None:
        adapter = NatsAdapter.from_url(server.url())
        assert adapter.capabilities.limits.max_message_bytes == 1024 * 1024
        await adapter.connect()
        try:
            assert adapter.capabilities.limits.max_message_bytes == 65536
            with pytest.raises(LimitExceededError) as info:
                await adapter.publish(channel, [Message({"ce-id": "x"}, b"x" * 65530)])
            assert info.value.maximum == 65536
            await adapter.publish(channel, [Message({"ce-id": "y"}, b"y" * 1000)])  # still usable
        finally:
            await adapter.close()

    run(scenario())


def test_a_pattern_without_a_literal_first_token_needs_a_stream(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        adapter = NatsAdapter.from_url(nats_server.url())
        await adapter.connect()
        try:

            async def ignore(delivery: Delivery) -> None:
                await delivery.ack()

            with pytest.raises(
                ConfigurationError, match=r"spans the JetStream|first token is a wildcard"
            ):
                await adapter.subscribe(SubscriptionSpec(channel="*.nowhere.x"), ignore)
        finally:
            await adapter.close()

    run(scenario())


def test_consumer_settings_follow_the_subscription(nats_server: NatsServer) -> None:
    channel = unique("settings")

    async def scenario() -> None:
        policy = RetryPolicy(max_attempts=4, initial_delay=0.01)
        async with EventBus(nats_server.url(), retry=policy) as bus:

            async def handler(event: Event[Any]) -> None:
                pass

            await bus.subscribe(channel, handler, group="svc", ack_wait=7.0, max_in_flight=16)
            nc = await nats.connect(nats_server.url())
            try:
                js = nc.jetstream()
                group = await js.consumer_info("EVENTBUS_settings", consumer_name("svc", channel))
                dead = await js.consumer_info(
                    "EVENTBUS_settings", consumer_name(DEAD_LETTER_GROUP, f"{channel}.dlq")
                )
            finally:
                await nc.close()
        config = group.config
        assert (config.ack_wait, config.max_deliver, config.max_ack_pending) == (7.0, 7, 1000)
        assert config.filter_subject == channel and config.durable_name
        assert dead.config.filter_subject == f"{channel}.dlq"

    run(scenario())


def _limits_stream(server: NatsServer, name: str, subjects: str) -> NatsAdapter:
    """An adapter whose stream keeps what it stores (limits retention), so the test can count."""
    stream = StreamConfig(name=name, subjects=(subjects,), retention="limits")
    return NatsAdapter(NatsConfig(servers=(server.address,), streams=(stream,)))


def test_a_resent_event_is_stored_once_through_the_bus(
    start_server: Callable[..., NatsServer],
) -> None:
    """The bus (not a test-made Message) must give the broker the dedupe id of every publish."""
    server = start_server()

    async def scenario() -> None:
        async with EventBus(_limits_stream(server, "DEDUPE", "dedupe.>")) as bus:
            event = Event(type="dedupe.sent", source="/producer-a", data={"n": 1})
            await bus.publish(event)
            await bus.publish(event)  # a producer retrying a publish it was unsure about
            await bus.publish_many([event, event])
            await bus.publish(Event(type="dedupe.sent", source="/producer-a", data={"n": 2}))
        assert (await stream_info(server, "DEDUPE")).state.messages == 2

    run(scenario())


def test_the_same_id_from_two_sources_is_two_events(
    start_server: Callable[..., NatsServer],
) -> None:
    """CloudEvents identity is source + id: JetStream dedupe must not drop the second one."""
    server = start_server()

    async def scenario() -> None:
        got: list[tuple[str, str]] = []
        async with EventBus(_limits_stream(server, "SOURCES", "sources.>")) as bus:

            async def handler(event: Event[Any]) -> None:
                got.append((event.source, event.id))

            await bus.subscribe("sources.sent", handler, group="audit")
            await bus.publish(Event(type="sources.sent", source="/producer-a", id="42"))
            await bus.publish(Event(type="sources.sent", source="/producer-b", id="42"))
            await wait_until(lambda: len(got) == 2, what="both events")
        assert sorted(got) == [("/producer-a", "42"), ("/producer-b", "42")]
        assert (await stream_info(server, "SOURCES")).state.messages == 2

    run(scenario())
