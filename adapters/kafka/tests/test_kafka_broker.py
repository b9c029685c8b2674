"""Kafka-specific behaviour on the real broker: the wire, commits, retry topics, dead letters,
limits and names."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from cloudevents.core.bindings import kafka as sdk_kafka
from cloudevents.core.formats.json import JSONFormat
from confluent_kafka import Consumer, ConsumerGroupTopicPartitions, TopicPartition
from confluent_kafka.admin import AdminClient
from eventbus_kafka import KafkaAdapter
from kafka_launcher import KafkaServer

from eventbus import BrokerConnectionError, ChannelNameError, ConfigurationError, Event, EventBus
from eventbus import RetryPolicy as Retry
from eventbus.adapter import DEAD_LETTER_GROUP
from eventbus.testing import run, wait_until


def _name() -> str:
    return f"kt.t{uuid.uuid4().hex[:10]}"


def _read_raw(server: KafkaServer, topic: str, count: int) -> list[Any]:
    consumer = Consumer(
        {"bootstrap.servers": server.bootstrap, "group.id": f"raw-{uuid.uuid4().hex}",
         "auto.offset.reset": "earliest"}
    )  # fmt: skip
    consumer.subscribe([topic])
    records: list[Any] = []
    try:
        for _ in range(300):
            records += [r for r in consumer.consume(count, 0.2) if r.error() is None]
            if len(records) >= count:
                break
    finally:
        consumer.close()
    return records


def test_partitionkey_is_the_record_key_and_the_sdk_reads_the_record(
    kafka_server: KafkaServer,
) -> None:
    channel = _name()

    async def scenario() -> Event[Any]:
        async with EventBus(kafka_server.url()) as bus:
            event = Event(type=channel, source="/k b", data={"n": 1},
                          extensions={"partitionkey": "cust-7"})  # fmt: skip
            await bus.publish(event)
            return event

    sent = run(scenario())
    (record,) = _read_raw(kafka_server, channel, 1)
    assert record.key() == b"cust-7"
    headers = dict(record.headers())
    assert headers["ce_id"] == sent.id.encode()
    assert headers["ce_source"] == b"/k b"  # UTF-8, no percent-encoding
    assert headers["content-type"] == b"application/json"
    theirs = sdk_kafka.from_kafka(
        sdk_kafka.KafkaMessage(headers, record.key(), record.value()), JSONFormat()
    )
    assert (theirs.get_id(), theirs.get_type(), theirs.get_data()) == (sent.id, channel, {"n": 1})
    assert theirs.get_extension("partitionkey") == "cust-7"


def test_an_event_without_data_is_a_record_without_value_and_reads_back(
    kafka_server: KafkaServer,
) -> None:
    """Binding 3.2.2: in binary mode an event without data is a record with no value (not an
    empty one); in structured mode the value is the JSON event. Both read back without data."""
    channel = _name()
    got: list[Event[Any]] = []

    async def scenario() -> None:
        async def handler(event: Event[Any]) -> None:
            got.append(event)

        async with EventBus(kafka_server.url()) as bus:
            await bus.subscribe(channel, handler)
            await bus.publish(Event(type=channel, source="/none", id="binary"))
            async with EventBus(kafka_server.url("content_mode=structured")) as structured:
                await structured.publish(Event(type=channel, source="/none", id="structured"))
            await wait_until(lambda: len(got) == 2)

    run(scenario())
    records = _read_raw(kafka_server, channel, 2)
    values = {dict(r.headers()).get("content-type"): r.value() for r in records}
    assert values[None] is None  # binary: no content-type, no value
    structured = values[b"application/cloudevents+json; charset=utf-8"]
    assert structured is not None and b'"id":"structured"' in structured
    assert sorted((e.id, e.data, e.datacontenttype) for e in got) == [
        ("binary", None, None),
        ("structured", None, None),
    ]


def test_a_retry_does_not_block_its_partition(kafka_server: KafkaServer) -> None:
    """The failing record waits in a retry topic; the ones behind it are handled meanwhile."""
    channel = _name()

    async def scenario() -> list[tuple[int, int]]:
        handled: list[tuple[int, int]] = []
        policy = Retry(max_attempts=2, initial_delay=0.5, jitter=0.0)
        async with EventBus(kafka_server.url("partitions=1"), retry=policy) as bus:

            async def handler(event: Event[int], context: Any) -> None:
                assert event.data is not None
                if event.data == 0 and context.attempt == 1:
                    raise RuntimeError("not yet")
                handled.append((event.data, context.attempt))

            sub = bus.subscribe(channel, handler, max_in_flight=1)
            await sub
            await bus.publish_many(Event(type=channel, source="/c", data=i) for i in range(5))
            await wait_until(lambda: len(handled) == 5, timeout=30)
        return handled

    handled = run(scenario())
    assert handled[:4] == [(1, 1), (2, 1), (3, 1), (4, 1)]
    assert handled[4] == (0, 2)  # came back from <channel>.retry.1s with its attempt counted


def test_commits_never_pass_an_unsettled_record(kafka_server: KafkaServer) -> None:
    """Records 1-3 settle while 0 is still running: the group's offset stays at 0, so after a
    restart 0 comes back (and 1-3 with it: at-least-once, never at-most-once)."""
    channel = _name()
    url = kafka_server.url("partitions=1&commit_interval=0.05")

    async def scenario() -> list[int]:
        release = asyncio.Event()
        first: list[int] = []
        bus = EventBus(url)

        async def slow_zero(event: Event[int]) -> None:
            assert event.data is not None
            if event.data == 0:
                await release.wait()
            first.append(event.data)

        sub = bus.subscribe(channel, slow_zero, group="g", max_in_flight=4)
        await bus.open()
        await sub
        await bus.publish_many(Event(type=channel, source="/c", data=i) for i in range(4))
        await wait_until(lambda: sorted(first) == [1, 2, 3])
        await asyncio.sleep(0.5)  # ten commit intervals
        admin = AdminClient({"bootstrap.servers": kafka_server.bootstrap})
        group = bus.adapter.group_id("g", channel)  # type: ignore[attr-defined]
        request = [ConsumerGroupTopicPartitions(group, [TopicPartition(channel, 0)])]
        (future,) = admin.list_consumer_group_offsets(request).values()
        committed = (await asyncio.wrap_future(future)).topic_partitions[0].offset
        assert committed == 0
        await bus.close(timeout=0.05)  # record 0 is cut off unsettled
        release.set()
        again: list[int] = []
        async with EventBus(url) as second:

            async def record(event: Event[int]) -> None:
                assert event.data is not None
                again.append(event.data)

            await second.subscribe(channel, record, group="g")
            await wait_until(lambda: len(again) >= 4, timeout=30)
        return again

    assert sorted(run(scenario())) == [0, 1, 2, 3]


def test_dead_letters_are_kept_before_anyone_reads_them(kafka_server: KafkaServer) -> None:
    channel = _name()

    async def scenario() -> list[Event[Any]]:
        policy = Retry(max_attempts=1)
        dead: list[Event[Any]] = []
        async with EventBus(kafka_server.url(), retry=policy) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("bad order")

            sub = bus.subscribe(channel, poison)
            await sub
            await bus.publish(Event(type=channel, source="/c", data={"id": 1}))
            await wait_until(lambda: sub.stats.dead_lettered == 1, timeout=30)
            assert sub.dead_letter_channel is not None

            async def reader(event: Event[Any]) -> None:
                dead.append(event)

            # the dlq group's reader comes after the dead letter was written
            await bus.subscribe(
                ">", reader, channel=sub.dead_letter_channel, group=DEAD_LETTER_GROUP,
                dead_letter_channel=False,
            )  # fmt: skip
            await wait_until(lambda: len(dead) == 1, timeout=30)
        return dead

    (event,) = run(scenario())
    assert event.extensions["deadletterreason"] == "handler-error"
    assert event.extensions["deadlettererror"] == "bad order"


def test_limit_is_the_brokers_message_max_bytes_read_at_connect(kafka_server: KafkaServer) -> None:
    async def scenario() -> tuple[int | None, int | None]:
        adapter = KafkaAdapter.from_url(kafka_server.url())
        before = adapter.capabilities.limits.max_message_bytes
        await adapter.connect()
        try:
            return before, adapter.capabilities.limits.max_message_bytes
        finally:
            await adapter.close()

    before, after = run(scenario())
    assert before == 1_048_588 - 512  # Kafka's default, until connected
    assert after == kafka_server.message_max_bytes - 512


def test_channel_names_kafka_refuses(kafka_server: KafkaServer) -> None:
    base = _name()

    async def scenario() -> None:
        async with EventBus(kafka_server.url()) as bus:
            await bus.publish(Event(type=f"{base}.a", source="/c"))
            with pytest.raises(ChannelNameError) as info:  # '.' and '_' collide in Kafka
                await bus.publish(Event(type=f"{base}_a", source="/c"))
            assert "collides" in str(info.value)
            with pytest.raises(ChannelNameError):
                await bus.publish(Event(type=f"{base}/a", source="/c"))

    run(scenario())


def test_without_provisioning_a_missing_topic_is_named(kafka_server: KafkaServer) -> None:
    channel = _name()

    async def scenario() -> None:
        async with EventBus(kafka_server.url("provision=false")) as bus:
            with pytest.raises(ConfigurationError) as info:
                await bus.publish(Event(type=channel, source="/c"))
            assert repr(channel) in str(info.value)

    run(scenario())


def test_unreachable_broker_fails_to_connect_without_showing_the_password() -> None:
    async def scenario() -> None:
        async with EventBus("kafka://alice:hunter2@127.0.0.1:1?connect_timeout=1"):
            pass

    with pytest.raises(BrokerConnectionError) as info:
        run(scenario())
    assert "hunter2" not in str(info.value)
