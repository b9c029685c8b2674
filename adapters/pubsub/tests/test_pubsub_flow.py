"""Subscriber and publisher logic that pstest cannot show, against fake google clients.

pstest hands out one message per ordering key at a time; Pub/Sub may hand out several, which the
adapter must then pass on one by one. Publishing concurrently must share requests and keep order.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from eventbus_pubsub import PubSubConfig
from eventbus_pubsub._admin import SubscriptionState
from eventbus_pubsub._publish import Publisher
from eventbus_pubsub._subscription import PubSubSubscription, Settings
from google.api_core import exceptions as gexc
from google.pubsub_v1 import types

from eventbus.adapter import Delivery, Message, PublishError, SubscriptionSpec
from eventbus.testing import wait_until

PATH = "projects/p/subscriptions/s"


def received(name: str, key: str = "", at: int = 0) -> Any:
    message = types.PubsubMessage.pb()(
        data=name.encode(), attributes={"n": name}, ordering_key=key, message_id=name
    )
    message.publish_time.FromNanoseconds(at)
    return types.ReceivedMessage.pb()(ack_id=f"ack-{name}", message=message)


class FakeSubscriber:
    def __init__(self, *batches: list[Any]) -> None:
        self.batches = list(batches)
        self.acks: list[str] = []
        self.modacks: list[tuple[str, int]] = []

    async def pull(self, request: Any, retry: Any, timeout: float) -> Any:
        if not self.batches:
            await asyncio.sleep(0.05)  # an empty long poll
            return types.PullResponse()
        raw = types.PullResponse.pb()(received_messages=self.batches.pop(0))
        return types.PullResponse.wrap(raw)

    async def acknowledge(self, request: Any, retry: Any, timeout: float) -> None:
        self.acks += list(types.AcknowledgeRequest.pb(request).ack_ids)

    async def modify_ack_deadline(self, request: Any, retry: Any, timeout: float) -> None:
        raw = types.ModifyAckDeadlineRequest.pb(request)
        self.modacks += [(ack_id, raw.ack_deadline_seconds) for ack_id in raw.ack_ids]


class FakeClients:
    def __init__(self, subscriber: Any = None, publisher: Any = None) -> None:
        self.subscriber = subscriber
        self.publisher = publisher


def subscription(fake: FakeSubscriber, deliver: Any, capacity: int = 10) -> PubSubSubscription:
    async def nothing(*_: Any) -> None:
        return None

    return PubSubSubscription(
        FakeClients(fake),  # type: ignore[arg-type]
        SubscriptionState(
            PATH, ack_deadline=10, ordering=True, exactly_once=False, dead_letter=True
        ),
        SubscriptionSpec("ch", "g"),
        deliver,
        Settings(capacity, 1 << 20, timeout=5, pull_timeout=5),
        dead_letter=nothing,
        on_close=nothing,
    )


def bodies(deliveries: list[Delivery]) -> list[bytes]:
    return [d.message.body for d in deliveries]


async def test_one_message_per_ordering_key_at_a_time() -> None:
    fake = FakeSubscriber(
        [
            received("k2", "K", 3),
            received("l1", "L", 2),
            received("k1", "K", 1),
            received("k3", "K", 4),
        ]
    )
    got: list[Delivery] = []

    async def deliver(delivery: Delivery) -> None:
        got.append(delivery)

    sub = subscription(fake, deliver)
    sub.start()
    await wait_until(lambda: len(got) == 2)
    await asyncio.sleep(0.05)
    assert bodies(got) == [b"k1", b"l1"]  # publish-time order; k2 waits behind k1
    await got[0].ack()
    await wait_until(lambda: len(got) == 3)
    assert got[2].message.body == b"k2"
    await got[2].nack()  # k3 goes back with it, so Pub/Sub redelivers K in order
    await asyncio.sleep(0.05)
    assert len(got) == 3
    await got[1].ack()
    await sub.close()
    assert fake.acks == ["ack-k1", "ack-l1"]
    assert sorted(fake.modacks) == [("ack-k2", 0), ("ack-k3", 0)]


async def test_close_gives_back_unsettled_messages_and_sends_pending_acks() -> None:
    fake = FakeSubscriber([received(f"m{i}", at=i) for i in range(5)])
    got: list[Delivery] = []

    async def deliver(delivery: Delivery) -> None:
        got.append(delivery)
        if len(got) == 3:
            await asyncio.Event().wait()  # the bus is full

    sub = subscription(fake, deliver)
    sub.start()
    await wait_until(lambda: len(got) == 3)
    await got[0].ack()
    await sub.stop()  # m2 (stuck in deliver), m3 and m4 were never taken: back at once
    assert sorted(a for a, _ in fake.modacks) == ["ack-m2", "ack-m3", "ack-m4"]
    await got[1].ack()  # still possible after stop
    await sub.close()  # nothing left unsettled
    assert fake.acks == ["ack-m0", "ack-m1"]
    await got[1].ack()
    await got[2].nack()  # settling after close does nothing
    assert len(fake.modacks) == 3


async def test_a_nack_with_a_delay_sets_the_ack_deadline() -> None:
    fake = FakeSubscriber([received("a", at=1), received("b", at=2)])
    got: list[Delivery] = []

    async def deliver(delivery: Delivery) -> None:
        got.append(delivery)

    sub = subscription(fake, deliver)
    sub.start()
    await wait_until(lambda: len(got) == 2)
    await got[0].nack(2.05)
    await got[1].nack(9999)
    await got[0].extend()  # settled: nothing
    await sub.close()
    assert sorted(fake.modacks) == [("ack-a", 2), ("ack-b", 600)]


class FakePublisher:
    def __init__(self, fail_on: int | None = None) -> None:
        self.requests: list[list[bytes]] = []
        self.fail_on = fail_on

    async def publish(self, request: Any, retry: Any, timeout: float) -> None:
        self.requests.append([m.data for m in types.PublishRequest.pb(request).messages])
        if len(self.requests) == self.fail_on:
            raise gexc.PermissionDenied("no")


class FakeAdmin:
    async def ensure_topic(self, channel: str) -> str:
        return f"projects/p/topics/{channel}"


def publisher(fake: FakePublisher) -> Publisher:
    return Publisher(FakeClients(publisher=fake), FakeAdmin(), PubSubConfig("p"), "here")  # type: ignore[arg-type]


def message(n: int) -> Message:
    return Message({"n": str(n)}, str(n).encode())


async def test_concurrent_publishes_share_requests_in_call_order() -> None:
    fake = FakePublisher()
    pub = publisher(fake)
    await asyncio.gather(*(pub.publish("ch", [message(i)]) for i in range(50)))
    assert fake.requests == [[str(i).encode() for i in range(50)]]
    await pub.publish("ch", [message(i) for i in range(1500)])  # 1,000 messages per request
    assert [len(r) for r in fake.requests[1:]] == [1000, 500]


async def test_a_failed_request_fails_only_the_callers_it_carried() -> None:
    fake = FakePublisher(fail_on=2)
    pub = publisher(fake)
    results = await asyncio.gather(
        pub.publish("ch", [message(i) for i in range(600)]),
        pub.publish("ch", [message(i) for i in range(600)]),  # spans requests 1 and 2
        pub.publish("ch", [message(1)]),
        return_exceptions=True,
    )
    assert results[0] is None
    assert isinstance(results[1], PublishError) and isinstance(results[2], PublishError)
    assert "PERMISSION_DENIED" in str(results[1])


async def test_nothing_is_sent_when_one_message_breaks_a_limit() -> None:
    fake = FakePublisher()
    with pytest.raises(Exception, match="attribute count"):
        await publisher(fake).publish(
            "ch", [message(1), Message({str(i): "x" for i in range(101)}, b"")]
        )
    assert fake.requests == []
