"""Request-reply on Pub/Sub (pstest): a reply topic, one filtered subscription per requester.

What the conformance scenarios cannot see: the requester's subscription exists, with its
filter, before a request is sent; a reply carries the ``replyto`` attribute the filter matches,
so another requester's subscription never gets it; closing deletes the subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from eventbus_pubsub import PubSubAdapter
from google.api_core import exceptions as gexc
from pstest_launcher import PstestServer

from eventbus import ConfigurationError, Event, EventBus, Middleware
from eventbus.adapter import Message
from eventbus.testing import wait_until


@pytest.fixture
def reply_topic() -> str:
    return f"replies.t{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def adapter(pstest: PstestServer, reply_topic: str) -> AsyncIterator[PubSubAdapter]:
    adapter = PubSubAdapter.from_url(pstest.url("replies", reply_topic=reply_topic))
    await adapter.connect()
    try:
        yield adapter
    finally:
        await adapter.close()


async def _reply_subscriptions(adapter: PubSubAdapter, reply_topic: str) -> dict[str, str]:
    """The subscriptions of the reply topic: name -> filter."""
    project = f"projects/{adapter.config.project}"
    found: dict[str, str] = {}
    async for sub in await adapter.clients.subscriber.list_subscriptions(project=project):
        if sub.topic == f"{project}/topics/{reply_topic}":
            found[sub.name] = sub.filter
    return found


class ListenerAtSend(Middleware):
    """Lists the reply topic's subscriptions (and filters) as each request leaves."""

    def __init__(self, adapter: PubSubAdapter, reply_topic: str) -> None:
        self.adapter = adapter
        self.reply_topic = reply_topic
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def on_publish(self, event: Event[Any], call_next: Any) -> None:
        subs = await _reply_subscriptions(self.adapter, self.reply_topic)
        self.seen.append((str(event.extensions["replyto"]), subs))
        await call_next(event)


async def test_the_filtered_subscription_exists_before_the_request_and_is_deleted_after(
    adapter: PubSubAdapter, pstest: PstestServer, reply_topic: str
) -> None:
    kind = f"rr.t{uuid.uuid4().hex[:10]}"
    url = pstest.url("replies", reply_topic=reply_topic)
    watch = ListenerAtSend(adapter, reply_topic)
    async with EventBus(url) as server:

        async def answer(event: Event[Any]) -> Event[Any]:
            return Event(type=f"{kind}.answer", source="/s", data={"ok": True})

        await server.subscribe(kind, answer)
        async with EventBus(url, middleware=[watch]) as client:
            reply = await client.request(Event(type=kind, source="/c"), timeout=30)
            assert reply.data == {"ok": True}
            await client.request(Event(type=kind, source="/c"), timeout=30)
        ((address, subs), (again, _)) = watch.seen
        assert again == address  # one subscription per requester, for all its requests
        assert address.startswith(f"{reply_topic}/eb-")
        # When the request left, the requester's subscription existed, filtered on its address.
        assert list(subs.values()) == [f'attributes.replyto = "{address}"']
        # Closing the bus deleted it.
        assert await _reply_subscriptions(adapter, reply_topic) == {}


async def test_a_reply_reaches_only_its_requesters_subscription(adapter: PubSubAdapter) -> None:
    got: dict[str, list[Message]] = {"a": [], "b": []}
    a = await adapter.listen_replies(got["a"].append, lambda token: None)
    b = await adapter.listen_replies(got["b"].append, lambda token: None)
    try:
        to_a, to_b = a.reply_to("1"), b.reply_to("1")
        assert to_a != to_b
        for n in range(10):  # b's replies first: without the filter a would get them too
            await adapter.publish_reply(to_b, Message({"n": str(n)}, b"b"))
        for n in range(10):
            await adapter.publish_reply(to_a, Message({"n": str(n)}, b"a"))
        await wait_until(lambda: len(got["a"]) >= 10 and len(got["b"]) >= 10, 20, "the replies")
        # b's replies were published first: a has had every chance to see them by now.
        assert [m.body for m in got["a"]] == [b"a"] * 10
        assert [m.body for m in got["b"]] == [b"b"] * 10
        assert {m.headers["replyto"] for m in got["a"]} == {to_a}
    finally:
        await a.close()
        await b.close()


async def test_a_malformed_reply_address_is_refused(adapter: PubSubAdapter) -> None:
    for address in ("no-requester", "topic/", "/eb-1", 'topic/eb-"1'):
        with pytest.raises(ConfigurationError, match="not a Pub/Sub reply address"):
            await adapter.publish_reply(address, Message({}, b"x"))


async def test_closing_the_listener_deletes_its_subscription(
    adapter: PubSubAdapter, reply_topic: str
) -> None:
    listener = await adapter.listen_replies(lambda message: None, lambda token: None)
    (name,) = await _reply_subscriptions(adapter, reply_topic)
    await listener.close()
    with pytest.raises(gexc.NotFound):
        await adapter.clients.subscriber.get_subscription(subscription=name)


def test_reply_topic_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="reply_topic"):
        PubSubAdapter.from_url("pubsub://p?emulator_host=127.0.0.1:1&reply_topic=goog-x")
