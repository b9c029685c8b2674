"""Request-reply on Kafka: one shared reply topic, each requester keeping its own replies.

What the conformance scenarios cannot see: a reply published as soon as the listener returns
reaches it (its reader starts from offsets taken before); a requester never hands over another
one's reply; a bus that made requests leaves no topic of its own behind.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient
from eventbus_kafka import KafkaAdapter
from kafka_launcher import KafkaServer

from eventbus import ConfigurationError, Event, EventBus
from eventbus.adapter import Message
from eventbus.testing import run, wait_until


def _topics(server: KafkaServer) -> set[str]:
    admin = AdminClient({"bootstrap.servers": server.bootstrap})
    return set(admin.list_topics(timeout=10).topics)


def test_each_requester_gets_only_its_replies(kafka_server: KafkaServer) -> None:
    reply_topic = f"replies.t{uuid.uuid4().hex[:10]}"

    async def scenario() -> None:
        adapter = KafkaAdapter.from_url(kafka_server.url(f"reply_topic={reply_topic}"))
        await adapter.connect()
        got: dict[str, list[Message]] = {"a": [], "b": []}
        try:
            a = await adapter.listen_replies(got["a"].append, lambda token: None)
            b = await adapter.listen_replies(got["b"].append, lambda token: None)
            to_a, to_b = a.reply_to("1"), b.reply_to("1")
            assert to_a != to_b and to_a.startswith(f"{reply_topic}/eb-")
            # At once: the readers start from offsets taken before listen_replies returned.
            for n in range(10):
                await adapter.publish_reply(to_b, Message({"n": str(n)}, b"b"))
                await adapter.publish_reply(to_a, Message({"n": str(n)}, b"a"))
            await wait_until(lambda: len(got["a"]) >= 10 and len(got["b"]) >= 10, 30, "replies")
            await a.close()
            await b.close()
        finally:
            await adapter.close()
        assert [m.body for m in got["a"]] == [b"a"] * 10  # b's replies were skipped
        assert [m.body for m in got["b"]] == [b"b"] * 10
        assert {m.headers["replyto"] for m in got["a"]} == {to_a.encode()}

    run(scenario())


def test_requests_leave_no_topic_of_their_own(kafka_server: KafkaServer) -> None:
    reply_topic = f"replies.t{uuid.uuid4().hex[:10]}"
    kind = f"kt.t{uuid.uuid4().hex[:10]}"
    url = kafka_server.url(f"reply_topic={reply_topic}")
    before = _topics(kafka_server)

    async def scenario() -> None:
        async with EventBus(url) as server, EventBus(url) as client:

            async def answer(event: Event[Any]) -> Event[Any]:
                return Event(type=f"{kind}.done", source="/s", data={"ok": True})

            await server.subscribe(kind, answer)
            replies = await asyncio.gather(
                *(client.request(Event(type=kind, source="/c"), timeout=30) for _ in range(5))
            )
            assert [r.data for r in replies] == [{"ok": True}] * 5
            assert client.request_stats.late == 0

    run(scenario())
    new = _topics(kafka_server) - before
    # The request channel and the shared reply topic (each with its retry topics), nothing else.
    ours = (kind, f"{reply_topic}.retry.", "__")  # "__": the broker's own (__consumer_offsets)
    assert {t for t in new if t != reply_topic and not t.startswith(ours)} == set()
    assert reply_topic in new


def test_a_malformed_reply_address_is_refused(kafka_server: KafkaServer) -> None:
    async def scenario() -> None:
        adapter = KafkaAdapter.from_url(kafka_server.url())
        await adapter.connect()
        try:
            for address in ("no-requester", "topic/", "/eb-1", "t/a/b"):
                with pytest.raises(ConfigurationError, match="not a Kafka reply address"):
                    await adapter.publish_reply(address, Message({}, b"x"))
        finally:
            await adapter.close()

    run(scenario())
