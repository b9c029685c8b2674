"""What the adapter makes on SNS/SQS, checked with raw aiobotocore calls on moto's server:
queues and their redrive policy, native redrive, fan-out cleanup, FIFO channels and dedupe."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from eventbus_aws import SqsAdapter, fanout_queue_name, group_queue_name, topic_name
from eventbus_aws._errors import MissingResourceError
from moto_launcher import MotoServer

from eventbus import DEAD_LETTER_GROUP, ConfigurationError
from eventbus.adapter import Delivery, Message, PublishError, SubscriptionSpec

T = TypeVar("T")


def channel() -> str:
    return f"broker.t{uuid.uuid4().hex[:10]}"


def with_adapter(url: str, body: Callable[[SqsAdapter], Awaitable[T]]) -> T:
    async def scenario() -> T:
        adapter = SqsAdapter.from_url(url)
        await adapter.connect()
        try:
            return await asyncio.wait_for(body(adapter), 60)
        finally:
            await adapter.close()

    return asyncio.run(scenario())


async def queue_attributes(adapter: SqsAdapter, name: str) -> dict[str, str]:
    sqs = adapter.clients.sqs
    url = (await sqs.get_queue_url(QueueName=name))["QueueUrl"]
    response = await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])
    return dict(response["Attributes"])


async def queue_names(adapter: SqsAdapter, prefix: str) -> set[str]:
    response = await adapter.clients.sqs.list_queues(QueueNamePrefix=prefix)
    return {u.rsplit("/", 1)[-1] for u in response.get("QueueUrls", [])}


async def ignore(delivery: Delivery) -> None:
    """Takes a message and never settles it (a consumer that crashes every time)."""


def test_group_queue_has_redrive_policy_and_topic_only_policy(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        spec = SubscriptionSpec(ch, group="g", dead_letter_channel=f"{ch}.dlq", max_attempts=4)
        sub = await adapter.subscribe(spec, ignore)
        await sub.close()
        attributes = await queue_attributes(adapter, group_queue_name(ch, "g"))
        dead = await queue_attributes(adapter, group_queue_name(f"{ch}.dlq", DEAD_LETTER_GROUP))
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == dead["QueueArn"]
        assert int(redrive["maxReceiveCount"]) == 4
        assert int(dead["MessageRetentionPeriod"]) == 14 * 24 * 3600
        (statement,) = json.loads(attributes["Policy"])["Statement"]
        topic_arn = await adapter.clients.arn("sns", topic_name(ch))
        assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == topic_arn
        assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
        subs = await adapter.clients.sns.list_subscriptions_by_topic(TopicArn=topic_arn)
        (only,) = subs["Subscriptions"]
        got = await adapter.clients.sns.get_subscription_attributes(
            SubscriptionArn=only["SubscriptionArn"]
        )
        assert got["Attributes"]["RawMessageDelivery"] == "true"

    with_adapter(moto.url(wait_time=1), body)


def test_never_settled_messages_move_to_the_dead_letter_queue(moto: MotoServer) -> None:
    """The redrive policy catches what the bus never settles (a consumer that dies)."""
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        spec = SubscriptionSpec(
            ch, group="g", dead_letter_channel=f"{ch}.dlq", max_attempts=2, ack_wait=0.5
        )
        seen: list[int] = []

        async def crash(delivery: Delivery) -> None:
            seen.append(delivery.attempt)

        sub = await adapter.subscribe(spec, crash)
        await adapter.publish(ch, [Message({"ce-id": "a"}, b'"lost?"')])
        dead: list[Message] = []

        async def keep(delivery: Delivery) -> None:
            dead.append(delivery.message)
            await delivery.ack()

        reader = await adapter.subscribe(
            SubscriptionSpec(f"{ch}.dlq", group=DEAD_LETTER_GROUP), keep
        )
        try:
            for _ in range(300):
                if dead:
                    break
                await asyncio.sleep(0.05)
        finally:
            await reader.close()
            await sub.close()
        assert [m.body for m in dead] == [b'"lost?"']
        assert dead[0].headers["ce-id"] == "a"
        assert seen == [1, 2]  # ApproximateReceiveCount; moved instead of a third delivery

    with_adapter(moto.url(wait_time=1), body)


def test_fan_out_queue_is_removed_on_close_and_group_queue_kept(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        prefix = topic_name(ch)
        fan = await adapter.subscribe(SubscriptionSpec(ch), ignore)
        group = await adapter.subscribe(SubscriptionSpec(ch, group="keep"), ignore)
        names = await queue_names(adapter, prefix)
        assert fan.queue.name in names and group.queue.name in names
        assert fan.queue.name.startswith(fanout_queue_name(ch)[:-16])
        await fan.close()
        await group.close()
        assert await queue_names(adapter, prefix) == {group_queue_name(ch, "keep")}

    with_adapter(moto.url(wait_time=1), body)


def test_ordered_channel_is_a_fifo_topic_that_dedupes(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        got: list[Message] = []

        async def take(delivery: Delivery) -> None:
            got.append(delivery.message)
            await delivery.ack()

        spec = SubscriptionSpec(ch, group="g", ordered=True)
        made = await adapter.subscribe(spec, take)  # makes the FIFO topic and group queue
        assert made.queue.fifo and made.queue.name.endswith(".fifo")
        await made.close()
        first = Message({"ce-id": "e1"}, b"1", key="k", dedupe_id="/src e1")
        again = Message({"ce-id": "e1"}, b"1", key="k", dedupe_id="/src e1")
        other = Message({"ce-id": "e2"}, b"2", key="k", dedupe_id="/src e2")
        await adapter.publish(ch, [first])
        # a re-send within 5 minutes is dropped (moto compares only with messages still in
        # the queue, so nobody reads the queue until all three are published)
        await adapter.publish(ch, [again, other])
        sub = await adapter.subscribe(spec, take)
        for _ in range(600):
            if len(got) >= 2:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        await sub.close()
        assert [m.body for m in got] == [b"1", b"2"]
        assert got[0].key == "k:k"  # the MessageGroupId, which the adapter orders by

    with_adapter(moto.url(wait_time=1), body)


def test_a_standard_channel_cannot_become_ordered(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        await adapter.publish(ch, [Message({}, b"x")])  # makes the standard topic
        with pytest.raises(ConfigurationError, match="needs a FIFO topic"):
            await adapter.subscribe(SubscriptionSpec(ch, ordered=True), ignore)

    with_adapter(moto.url(wait_time=1), body)


def test_without_provisioning_missing_resources_are_named(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        with pytest.raises(MissingResourceError, match=topic_name(ch)) as info:
            await adapter.publish(ch, [Message({}, b"x")])
        assert isinstance(info.value, LookupError)
        with pytest.raises(MissingResourceError):
            await adapter.subscribe(SubscriptionSpec(ch, group="g"), ignore)

    with_adapter(moto.url(wait_time=1, provision="false"), body)


def test_received_headers_and_attempts(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        got: list[tuple[int, Message]] = []

        async def twice(delivery: Delivery) -> None:
            got.append((delivery.attempt, delivery.message))
            await (delivery.ack() if len(got) > 1 else delivery.nack())

        sub = await adapter.subscribe(SubscriptionSpec(ch, group="g"), twice)
        headers: dict[str, Any] = {"a": "ü", "n": 7, "flag": True, "empty": ""}
        await adapter.publish(ch, [Message(headers, b"\xffbinary")])
        for _ in range(200):
            if len(got) >= 2:
                break
            await asyncio.sleep(0.05)
        await sub.close()
        assert [a for a, _ in got] == [1, 2]
        message = got[1][1]
        assert message.body == b"\xffbinary"
        assert dict(message.headers) == {"a": "ü", "n": "7", "flag": "true", "empty": ""}

    with_adapter(moto.url(wait_time=1), body)


def test_publish_to_a_deleted_topic_is_not_stored(moto: MotoServer) -> None:
    ch = channel()

    async def body(adapter: SqsAdapter) -> None:
        await adapter.publish(ch, [Message({}, b"x")])
        arn = await adapter.clients.arn("sns", topic_name(ch))
        await adapter.clients.sns.delete_topic(TopicArn=arn)
        with pytest.raises(PublishError) as info:
            await adapter.publish(ch, [Message({}, b"y")])
        assert info.value.outcome == "not-stored"
        assert "NotFound" in str(info.value)

    with_adapter(moto.url(wait_time=1), body)
