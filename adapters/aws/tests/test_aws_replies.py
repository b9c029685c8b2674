"""Request-reply on SNS/SQS (moto): a reply topic and queue of the requester's own.

What the conformance scenarios cannot see, checked by listing moto's topics, queues and SNS
subscriptions: the requester's topic and subscribed queue exist before a request is sent, and
after the bus closes nothing it made for its replies is left; a late reply does not create the
topic again; closing the adapter without the listener removes the topic too.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from eventbus_aws import SqsAdapter, topic_name
from moto_launcher import MotoServer

from eventbus import ChannelNameError, Event, EventBus, Middleware
from eventbus.adapter import Message

#: The reply channels' coded prefix: ``eventbus-replies-`` -> ``eventbus--replies--``.
REPLY_PREFIX = topic_name("eventbus-replies-")


async def _entities(adapter: SqsAdapter) -> dict[str, set[str]]:
    """The reply topics, queues and SNS subscriptions (by endpoint queue) moto has."""
    clients = adapter.clients
    topics = {
        t["TopicArn"].rsplit(":", 1)[-1]
        for t in (await clients.sns.list_topics()).get("Topics", [])
    }
    urls = (await clients.sqs.list_queues(QueueNamePrefix=REPLY_PREFIX)).get("QueueUrls", [])
    subs = (await clients.sns.list_subscriptions()).get("Subscriptions", [])
    return {
        "topics": {t for t in topics if t.startswith(REPLY_PREFIX)},
        "queues": {u.rsplit("/", 1)[-1] for u in urls},
        "subscriptions": {
            s["Endpoint"].rsplit(":", 1)[-1]
            for s in subs
            if s["TopicArn"].rsplit(":", 1)[-1].startswith(REPLY_PREFIX)
        },
    }


class SeenAtSend(Middleware):
    """Lists moto's reply entities as each request leaves."""

    def __init__(self, adapter: SqsAdapter) -> None:
        self.adapter = adapter
        self.seen: list[tuple[str, dict[str, set[str]]]] = []

    async def on_publish(self, event: Event[Any], call_next: Any) -> None:
        self.seen.append((str(event.extensions["replyto"]), await _entities(self.adapter)))
        await call_next(event)


def _run(coro: Any) -> Any:
    return asyncio.run(asyncio.wait_for(coro, 90))


def test_the_reply_topic_exists_before_the_request_and_nothing_is_left_after_close(
    moto: MotoServer,
) -> None:
    kind = f"rr.t{uuid.uuid4().hex[:10]}"
    url = moto.url(wait_time=1, pollers=1)

    async def scenario() -> None:
        probe = SqsAdapter.from_url(url)
        await probe.connect()
        try:
            before = await _entities(probe)
            watch = SeenAtSend(probe)
            async with EventBus(url) as server:

                async def answer(event: Event[Any]) -> Event[Any]:
                    return Event(type=f"{kind}.answer", source="/s", data={"ok": True})

                await server.subscribe(kind, answer)
                async with EventBus(url, middleware=[watch]) as client:
                    for _ in range(2):
                        reply = await client.request(Event(type=kind, source="/c"), timeout=30)
                        assert reply.data == {"ok": True}
                ((address, during), (again, _)) = watch.seen
                assert again == address  # one reply topic per requester, for all its requests
                assert address.startswith("eventbus-replies-")
                topic = topic_name(address)
                # When the request left, its topic existed with a queue subscribed to it.
                assert topic in during["topics"] - before["topics"]
                (queue,) = during["queues"] - before["queues"]
                assert queue.startswith(topic)
                assert queue in during["subscriptions"]
                # The requester's bus closed: its topic, queue and subscription are gone.
                after = await _entities(probe)
                assert after == before
        finally:
            await probe.close()

    _run(scenario())


def test_a_late_reply_does_not_create_the_topic_again(moto: MotoServer) -> None:
    async def scenario() -> None:
        adapter = SqsAdapter.from_url(moto.url(wait_time=1, pollers=1))
        await adapter.connect()
        try:
            before = await _entities(adapter)
            listener = await adapter.listen_replies(lambda message: None, lambda token: None)
            address = listener.reply_to("1")
            await adapter.publish_reply(address, Message({}, b"on time"))  # caches the topic
            await listener.close()
            assert await _entities(adapter) == before
            # From another process (nothing cached) and from this one (a cached topic).
            other = SqsAdapter.from_url(moto.url(wait_time=1, pollers=1))
            await other.connect()
            try:
                await other.publish_reply(address, Message({}, b"late"))
            finally:
                await other.close()
            await adapter.publish_reply(address, Message({}, b"late"))
            assert await _entities(adapter) == before
        finally:
            await adapter.close()

    _run(scenario())


def test_closing_the_adapter_removes_an_open_listeners_topic(moto: MotoServer) -> None:
    async def scenario() -> None:
        probe = SqsAdapter.from_url(moto.url(wait_time=1, pollers=1))
        await probe.connect()
        try:
            before = await _entities(probe)
            adapter = SqsAdapter.from_url(moto.url(wait_time=1, pollers=1))
            await adapter.connect()
            listener = await adapter.listen_replies(lambda message: None, lambda token: None)
            assert topic_name(listener.reply_to("1")) in (await _entities(probe))["topics"]
            await adapter.close()
            assert await _entities(probe) == before
        finally:
            await probe.close()

    _run(scenario())


def test_a_malformed_reply_address_is_refused(moto: MotoServer) -> None:
    async def scenario() -> None:
        adapter = SqsAdapter.from_url(moto.url(wait_time=1, pollers=1))
        await adapter.connect()
        try:
            with pytest.raises(ChannelNameError):
                await adapter.publish_reply("no spaces/allowed", Message({}, b""))
        finally:
            await adapter.close()

    _run(scenario())
