"""The test broker itself, driven by the real azure-servicebus SDK: the Service Bus semantics the
adapter tests rely on (CBS, settlement, management operations, dead-lettering, lock expiry,
scheduling, duplicate detection, sessions, fan-out)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.servicebus import (
    NEXT_AVAILABLE_SESSION,
    ServiceBusMessage,
    ServiceBusReceiveMode,
    ServiceBusSubQueue,
)
from azure.servicebus.aio import ServiceBusClient
from azure.servicebus.exceptions import (
    ServiceBusAuthenticationError,
    ServiceBusConnectionError,
    ServiceBusError,
)
from sb_broker import ServiceBusTestBroker

Scenario = Callable[[ServiceBusClient], Awaitable[None]]


def run(broker: ServiceBusTestBroker, scenario: Scenario, conn: str | None = None) -> None:
    async def main() -> None:
        client = ServiceBusClient.from_connection_string(
            conn or broker.connection_string, retry_total=0
        )
        async with client:
            await asyncio.wait_for(scenario(client), 60)

    asyncio.run(main())


def topic() -> str:
    return f"b.t{uuid.uuid4().hex[:10]}"


def receiver(client: ServiceBusClient, name: str, sub: str = "s", **options: Any) -> Any:
    options.setdefault("max_wait_time", 1)
    return client.get_subscription_receiver(name, sub, socket_timeout=0.02, **options)


def test_send_receive_settle_and_dead_letter_sub_queue(sb_broker: ServiceBusTestBroker) -> None:
    name = topic()

    async def scenario(client: ServiceBusClient) -> None:
        async with receiver(client, name) as r, client.get_topic_sender(name) as s:
            await s.send_messages(
                [ServiceBusMessage(f"m{i}", application_properties={"k": i}) for i in range(3)]
            )
            got = await r.receive_messages(max_message_count=3, max_wait_time=2)
            assert [str(m) for m in got] == ["m0", "m1", "m2"]
            assert [m.delivery_count for m in got] == [0, 0, 0]
            assert got[0].application_properties == {b"k": 0}
            assert got[0].sequence_number < got[1].sequence_number
            await r.complete_message(got[0])
            await r.abandon_message(got[1])
            await r.dead_letter_message(got[2], reason="bad", error_description="why")
            again = await r.receive_messages(max_message_count=1, max_wait_time=2)
            assert [(str(m), m.delivery_count) for m in again] == [("m1", 1)]
            await r.complete_message(again[0])
        async with receiver(client, name, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as d:
            (dead,) = await d.receive_messages(max_message_count=5, max_wait_time=2)
            assert (str(dead), dead.dead_letter_reason, dead.dead_letter_error_description) == (
                "m2",
                "bad",
                "why",
            )
            assert dead.dead_letter_source == f"{name}/Subscriptions/s"
            await d.complete_message(dead)

    sb_broker.create_subscription(name, "s")
    run(sb_broker, scenario)


def test_max_delivery_count_and_lock_expiry(
    start_broker: Callable[..., ServiceBusTestBroker],
) -> None:
    broker = start_broker(lock_duration=0.3, max_delivery_count=2)
    name = topic()
    broker.create_subscription(name, "s")

    async def scenario(client: ServiceBusClient) -> None:
        async with receiver(client, name) as r, client.get_topic_sender(name) as s:
            await s.send_messages(ServiceBusMessage("poison"))
            (first,) = await r.receive_messages(max_wait_time=2)
            await asyncio.sleep(0.5)  # the lock expires: a delivery is counted, it comes back
            (second,) = await r.receive_messages(max_wait_time=2)
            assert second.delivery_count == 1
            assert second.lock_token != first.lock_token
            await r.abandon_message(second)  # the second failure: MaxDeliveryCount reached
            assert await r.receive_messages(max_wait_time=0.5) == []
        async with receiver(client, name, sub_queue=ServiceBusSubQueue.DEAD_LETTER) as d:
            (dead,) = await d.receive_messages(max_wait_time=2)
            assert dead.dead_letter_reason == "MaxDeliveryCountExceeded"
            await d.complete_message(dead)

    run(broker, scenario)


def test_renew_lock_peek_schedule_and_cancel(sb_broker: ServiceBusTestBroker) -> None:
    name = topic()
    sb_broker.create_subscription(name, "s")

    async def scenario(client: ServiceBusClient) -> None:
        async with receiver(client, name) as r, client.get_topic_sender(name) as s:
            await s.send_messages(ServiceBusMessage("held"))
            (held,) = await r.receive_messages(max_wait_time=2)
            before = held.locked_until_utc
            await asyncio.sleep(0.1)
            await r.renew_message_lock(held)
            assert held.locked_until_utc > before
            peeked = await r.peek_messages(max_message_count=5, sequence_number=1)
            assert [str(m) for m in peeked] == ["held"]
            await r.complete_message(held)
            due = datetime.now(UTC) + timedelta(seconds=0.6)
            (keep,) = await s.schedule_messages(ServiceBusMessage("later"), due)
            (drop,) = await s.schedule_messages(ServiceBusMessage("never"), due)
            await s.cancel_scheduled_messages(drop)
            assert keep != drop
            assert await r.receive_messages(max_wait_time=0.2) == []
            got = await r.receive_messages(max_wait_time=3)
            assert [str(m) for m in got] == ["later"]
            assert got[0].enqueued_time_utc >= due - timedelta(milliseconds=50)
            await r.complete_message(got[0])
            assert await r.receive_messages(max_wait_time=0.5) == []

    run(sb_broker, scenario)


def test_duplicate_detection_and_fan_out(sb_broker: ServiceBusTestBroker) -> None:
    name = topic()
    sb_broker.create_subscription(name, "a")
    sb_broker.create_subscription(name, "b")

    async def scenario(client: ServiceBusClient) -> None:
        async with client.get_topic_sender(name) as s:
            for body in ("one", "again", "two"):
                message_id = "id-2" if body == "two" else "id-1"
                await s.send_messages(ServiceBusMessage(body, message_id=message_id))
        for sub in ("a", "b"):
            async with receiver(
                client, name, sub, receive_mode=ServiceBusReceiveMode.RECEIVE_AND_DELETE
            ) as r:
                got = await r.receive_messages(max_message_count=5, max_wait_time=1)
                assert [str(m) for m in got] == ["one", "two"]

    run(sb_broker, scenario)


def test_sessions_lock_one_receiver_per_session(sb_broker: ServiceBusTestBroker) -> None:
    name = topic()
    sb_broker.create_subscription(name, "s", requires_session=True)

    async def scenario(client: ServiceBusClient) -> None:
        async with client.get_topic_sender(name) as s:
            await s.send_messages(
                [ServiceBusMessage(f"{k}{i}", session_id=k) for i in range(2) for k in "xy"]
            )
        async with receiver(client, name, session_id=NEXT_AVAILABLE_SESSION) as first:
            assert first.session.session_id == "x"  # the session with the oldest message
            with pytest.raises(ServiceBusError):  # locked by the first receiver
                async with receiver(client, name, session_id="x") as other:
                    await other.receive_messages(max_wait_time=0.5)
            async with receiver(client, name, session_id=NEXT_AVAILABLE_SESSION) as second:
                assert second.session.session_id == "y"
                got = await second.receive_messages(max_message_count=5, max_wait_time=1)
                assert [str(m) for m in got] == ["y0", "y1"]
            got = await first.receive_messages(max_message_count=5, max_wait_time=1)
            assert [str(m) for m in got] == ["x0", "x1"]
            await first.session.renew_lock()
            await first.session.set_state(b"state")
            assert await first.session.get_state() == b"state"

    run(sb_broker, scenario)


def test_bad_key_and_missing_entity(start_broker: Callable[..., ServiceBusTestBroker]) -> None:
    broker = start_broker(auto_create=False)
    broker.create_queue("present")
    wrong = broker.connection_string.replace(broker.namespace.key, "d3Jvbmcta2V5")

    async def bad_key(client: ServiceBusClient) -> None:
        with pytest.raises((ServiceBusAuthenticationError, ServiceBusConnectionError)):
            async with client.get_queue_sender("present") as s:
                await s.send_messages(ServiceBusMessage("x"))

    async def missing(client: ServiceBusClient) -> None:
        # The broker detaches with amqp:not-found; this SDK reports it as a ServiceBusError.
        with pytest.raises(ServiceBusError):
            async with client.get_queue_sender("absent") as s:
                await s.send_messages(ServiceBusMessage("x"))
        async with client.get_queue_sender("present") as s:
            await s.send_messages(ServiceBusMessage("x"))
        started = time.monotonic()
        async with client.get_queue_receiver("present", max_wait_time=1) as r:
            (got,) = await r.receive_messages(max_wait_time=2)
            await r.complete_message(got)
        assert time.monotonic() - started < 10

    run(broker, bad_key, wrong)
    run(broker, missing)
