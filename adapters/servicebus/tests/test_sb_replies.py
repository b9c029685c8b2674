"""Request-reply on Service Bus: the reply queue, one session per requester, on the test broker.

What the conformance scenarios cannot see: the session receiver is attached (the session locked
to the requester) before a request is sent; the request carries ReplyTo and ReplyToSessionId;
the reply carries the requester's SessionId; closing the bus releases the session and detaches
the receiver.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from eventbus_servicebus import ServiceBusAdapter
from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url

from eventbus import ConfigurationError, Event, EventBus, Middleware
from eventbus.adapter import Message

REPLY_QUEUE = "eventbus-replies"


@pytest.fixture(scope="module")
def broker() -> Iterator[ServiceBusTestBroker]:
    # Service Bus's own lock duration: see rpc_broker in test_sb_conformance.py.
    started = ServiceBusTestBroker(lock_duration=30.0).start()
    try:
        yield started
    finally:
        started.stop()


def _owner(broker: ServiceBusTestBroker, session: str) -> Any:
    with broker.namespace.lock:
        queue = broker.namespace.queues.get(REPLY_QUEUE)
        owner = None if queue is None else queue.session_owner.get(session)
        return None if owner is None else owner[0]


def _consumers(broker: ServiceBusTestBroker, session: str) -> list[Any]:
    with broker.namespace.lock:
        queue = broker.namespace.queues.get(REPLY_QUEUE)
        return [] if queue is None else [c for c in queue.consumers if c.session_id == session]


class ListenerAtSend(Middleware):
    """Looks at the broker as each request leaves: who holds the requester's session."""

    def __init__(self, broker: ServiceBusTestBroker) -> None:
        self.broker = broker
        self.seen: list[tuple[str, Any]] = []

    async def on_publish(self, event: Event[Any], call_next: Any) -> None:
        session = str(event.extensions["replyto"]).rpartition("/")[2]
        self.seen.append((session, _owner(self.broker, session)))
        await call_next(event)


def test_reply_goes_to_the_requesters_session(broker: ServiceBusTestBroker) -> None:
    kind = f"rr.t{uuid.uuid4().hex[:10]}"
    watch = ListenerAtSend(broker)

    async def scenario() -> str:
        url = sb_url(broker)
        async with EventBus(url) as server, EventBus(url, middleware=[watch]) as client:

            async def answer(event: Event[Any]) -> Event[Any]:
                return Event(type=f"{kind}.answer", source="/s", data={"ok": True})

            await server.subscribe(kind, answer)
            for _ in range(2):
                reply = await client.request(Event(type=kind, source="/c"), timeout=30)
                assert reply.data == {"ok": True}
            ((session, owner), (again, _)) = watch.seen
            assert again == session  # one session per requester, for all its requests
            assert owner is not None, "no receiver held the session when the request was sent"
            assert session.startswith("eb-")
            return session

    session = asyncio.run(asyncio.wait_for(scenario(), 60))
    requests = broker.received(kind)
    assert len(requests) == 2
    for request in requests:
        assert request.reply_to == REPLY_QUEUE
        assert request.reply_to_group_id == session
    replies = [m for m in broker.received(REPLY_QUEUE) if m.group_id == session]
    assert len(replies) == 2
    assert all(m.ttl and m.ttl <= 300 for m in replies)  # an untaken reply expires
    # Closing the bus detached the session receiver and released the session.
    assert _owner(broker, session) is None
    assert _consumers(broker, session) == []


def test_closing_the_listener_releases_its_session(broker: ServiceBusTestBroker) -> None:
    """The listener's own close (the bus calls it before the adapter closes) detaches the
    session receiver: a bus that stops requesting leaves nothing held on the broker."""

    async def scenario() -> None:
        adapter = ServiceBusAdapter.from_url(sb_url(broker))
        await adapter.connect()
        try:
            listener = await adapter.listen_replies(lambda message: None, lambda token: None)
            session = listener.reply_to("1").rpartition("/")[2]
            assert _owner(broker, session) is not None
            assert len(_consumers(broker, session)) == 1
            await listener.close()
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 10
            while _consumers(broker, session) or _owner(broker, session) is not None:
                assert loop.time() < deadline, "the session receiver is still attached"
                await asyncio.sleep(0.01)
        finally:
            await adapter.close()

    asyncio.run(scenario())


def test_two_requesters_have_their_own_sessions(broker: ServiceBusTestBroker) -> None:
    kind = f"rr.t{uuid.uuid4().hex[:10]}"

    async def scenario() -> None:
        url = sb_url(broker)
        async with (
            EventBus(url) as server,
            EventBus(url) as first,
            EventBus(url) as second,
        ):

            async def echo(event: Event[Any]) -> Event[Any]:
                return Event(type=f"{kind}.echo", source="/s", data=event.data)

            await server.subscribe(kind, echo)
            replies = await asyncio.gather(
                *(
                    bus.request(Event(type=kind, source="/c", data={"n": n}), timeout=30)
                    for n in range(20)
                    for bus in (first, second)
                )
            )
            assert [r.data for r in replies] == [{"n": n} for n in range(20) for _ in (0, 1)]
            # Each bus received exactly its own 20 replies: nothing late, nothing foreign.
            for bus in (first, second):
                assert bus.request_stats.replied == 20
                assert bus.request_stats.late == 0

    asyncio.run(asyncio.wait_for(scenario(), 90))


def test_a_malformed_reply_address_is_refused(broker: ServiceBusTestBroker) -> None:
    async def scenario() -> None:
        adapter = ServiceBusAdapter.from_url(sb_url(broker))
        await adapter.connect()
        try:
            for address in ("no-session", "queue/", "/session", "q/" + "s" * 129):
                with pytest.raises(ConfigurationError, match="not a Service Bus reply address"):
                    await adapter.publish_reply(address, Message({}, b""))
        finally:
            await adapter.close()

    asyncio.run(scenario())


def test_reply_queue_name_is_checked() -> None:
    with pytest.raises(ConfigurationError, match="reply_queue"):
        ServiceBusAdapter.from_url(
            "servicebus://k:v@127.0.0.1:5672?emulator=true&reply_queue=bad%20name"
        )
