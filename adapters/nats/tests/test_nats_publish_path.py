"""The adapter client's batch publishing (``publish_all``, ``queue_publish``) puts exactly what
nats-py's own ``publish`` calls would in the connection's buffer: same bytes, same counters,
same errors, on a real connection (its flusher held back so the buffer can be read)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import nats.errors
import pytest
from eventbus_nats import NatsAdapter, _publish
from eventbus_nats._client import AdapterClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nats.aio.client import Client
from nats_launcher import NatsServer

from eventbus import Event, EventBus
from eventbus.adapter import (
    Delivery,
    Message,
    PublishError,
    SubscriptionSpec,
)
from eventbus.testing import run, wait_until

_names = st.sampled_from(["content-type", "ce-id", "Nats-Msg-Id", "k", " padded ", "bad name"])
_values = st.one_of(
    st.sampled_from(["application/cloudevents+json", "1", ""]),
    st.text(alphabet=" \t\r\nab:é", max_size=5),
)
_headers = st.one_of(st.none(), st.dictionaries(_names, _values, max_size=3))
_items = st.lists(st.tuples(_headers, st.binary(max_size=80)), min_size=1, max_size=6)


async def _held(nc: Client) -> None:
    async def hold(force_flush: bool = False) -> None:
        return None

    nc._flush_pending = hold  # type: ignore[method-assign]


def _take(nc: Client) -> tuple[bytes, int, int]:
    sent = b"".join(nc._pending)
    nc._pending, nc._pending_data_size = [], 0
    return sent, nc.stats["out_msgs"], nc.stats["out_bytes"]


async def _outcome(call: Callable[[], Any]) -> str:
    try:
        await call()
    except nats.errors.Error as exc:
        return type(exc).__name__
    return "ok"


class Pair:
    """An AdapterClient and nats-py's Client, both connected, flushers held back."""

    def __init__(self, ours: AdapterClient, stock: Client) -> None:
        self.ours, self.stock = ours, stock

    async def compare(
        self,
        ours: Callable[[AdapterClient], Any],
        stock: Callable[[Client], Any],
        max_payload: int = 64,
    ) -> str:
        self.ours._max_payload = self.stock._max_payload = max_payload
        before = (self.ours.stats["out_msgs"], self.stock.stats["out_msgs"])
        got = await _outcome(lambda: ours(self.ours))
        want = await _outcome(lambda: stock(self.stock))
        assert got == want
        mine, theirs = _take(self.ours), _take(self.stock)
        assert mine[0] == theirs[0]
        assert mine[1] - before[0] == theirs[1] - before[1]
        return want


@pytest.fixture
def pair_in(nats_server: NatsServer) -> Callable[[Callable[[Pair], Any]], None]:
    def go(scenario: Callable[[Pair], Any]) -> None:
        async def main() -> None:
            ours, stock = AdapterClient(), Client()
            for nc in (ours, stock):
                await nc.connect(f"nats://{nats_server.address}")
                await _held(nc)
            try:
                await scenario(Pair(ours, stock))
            finally:
                for nc in (ours, stock):
                    nc._pending, nc._pending_data_size = [], 0
                    await nc.close()

        run(main())

    return go


async def _stock_loop(nc: Client, subject: str, items: list[tuple[Any, bytes]]) -> None:
    for headers, body in items:
        await nc.publish(subject, body, headers=headers)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(_items, min_size=1, max_size=4))
def test_publish_all_writes_what_nats_py_writes(
    pair_in: Callable[[Callable[[Pair], Any]], None], batches: list[list[tuple[Any, bytes]]]
) -> None:
    async def scenario(pair: Pair) -> None:
        for items in batches:
            await pair.compare(
                lambda nc, items=items: nc.publish_all("orders.placed", iter(items)),
                lambda nc, items=items: _stock_loop(nc, "orders.placed", items),
            )

    pair_in(scenario)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(items=_items)
def test_queued_publishes_with_replies_match_nats_py(
    pair_in: Callable[[Callable[[Pair], Any]], None], items: list[tuple[Any, bytes]]
) -> None:
    """What JetStream publishing (a reply inbox per message) and acks (a server's reply
    subject, no headers) queue."""

    async def ours(nc: AdapterClient) -> None:
        await nc.publish_checked("js.orders", b"first", "_INBOX.x.0")
        for n, (headers, body) in enumerate(items, 1):
            if not nc.queue_publish("js.orders", f"_INBOX.x.{n}", headers, body):
                await nc.publish_checked("js.orders", body, f"_INBOX.x.{n}", headers)
            ack = f"$JS.ACK.S.C.1.{n}.{n}.1700000000000000000.0"
            if not nc.queue_publish(ack, "", None, b"+ACK", from_server=True):
                await nc.publish(ack, b"+ACK")

    async def stock(nc: Client) -> None:
        await nc.publish("js.orders", b"first", reply="_INBOX.x.0")
        for n, (headers, body) in enumerate(items, 1):
            await nc.publish("js.orders", body, reply=f"_INBOX.x.{n}", headers=headers)
            await nc.publish(f"$JS.ACK.S.C.1.{n}.{n}.1700000000000000000.0", b"+ACK")

    pair_in(lambda pair: pair.compare(ours, stock))


def test_what_nats_py_refuses_is_refused(pair_in: Callable[[Callable[[Pair], Any]], None]) -> None:
    async def scenario(pair: Pair) -> None:
        for subject in ("", "bad subject", "a\r\nPUB x 1"):
            outcome = await pair.compare(
                lambda nc, s=subject: nc.publish_all(s, iter([(None, b"x"), (None, b"y")])),
                lambda nc, s=subject: _stock_loop(nc, s, [(None, b"x"), (None, b"y")]),
            )
            if outcome != "ok":  # nats-py 2.16 refuses all three, 2.15 only the empty one
                assert not pair.ours.queue_publish(subject, "", None, b"x")
        for second in (None, {"content-type": "application/cloudevents+json"}):
            items = [(None, b"x"), (second, b"y" * 100), (None, b"z")]  # over max_payload (64)
            await pair.compare(
                lambda nc, items=items: nc.publish_all("orders.placed", iter(items)),
                lambda nc, items=items: _stock_loop(nc, "orders.placed", items),
            )

    pair_in(scenario)


def test_nothing_is_queued_while_the_connection_is_not_up(
    pair_in: Callable[[Callable[[Pair], Any]], None],
) -> None:
    async def scenario(pair: Pair) -> None:
        ours = pair.ours
        await ours.publish_checked("orders.placed", b"x")
        _take(ours)
        assert ours.queue_publish("orders.placed", "", None, b"x")
        _take(ours)
        ours._status = Client.RECONNECTING
        try:
            assert not ours.queue_publish("orders.placed", "", None, b"x")
            assert not ours.queue_publish("$JS.ACK.a", "", None, b"+ACK", from_server=True)
        finally:
            ours._status = Client.CONNECTED
        ours._max_pending_size = ours._pending_data_size + 10
        assert not ours.queue_publish("orders.placed", "", None, b"a body longer than that")
        ours.use_public_paths()
        assert not ours.queue_publish("orders.placed", "", None, b"x")

    pair_in(scenario)


def test_a_jetstream_batch_wider_than_the_ack_window_is_stored(
    nats_server: NatsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Queued publishes go out before the publisher waits for their acks (window of 8 here)."""
    monkeypatch.setattr(_publish, "_WINDOW", 8)

    async def scenario() -> None:
        got: list[int] = []
        url = nats_server.url("publish_timeout=5&publish_retries=0")
        async with EventBus(url) as consumer, EventBus(url) as producer:

            async def handler(event: Event[int]) -> None:
                got.append(event.data)

            await consumer.subscribe("window.order.placed", handler)
            events = [Event(type="window.order.placed", source="/t", data=i) for i in range(50)]
            await producer.publish(events[0])  # the stream exists, the connection is up
            await asyncio.wait_for(producer.publish_many(events[1:]), 4)  # not one timeout
            await wait_until(lambda: len(got) == 50, what="every event")
        assert sorted(got) == list(range(50))

    run(scenario())


@pytest.mark.parametrize("query", ["mode=core", ""])
def test_what_was_queued_goes_out_when_a_later_message_fails(
    nats_server: NatsServer, query: str
) -> None:
    """A batch whose last message is refused: the messages before it reach the subscriber
    although nothing else is published on that connection afterwards."""
    channel = f"fails.t{uuid.uuid4().hex[:10]}"
    refused = Message({"ce-id": "x"}, b"x" * 10)  # over the connection's limit, set to 5 below

    async def scenario() -> None:
        got: list[bytes] = []
        consumer = NatsAdapter.from_url(nats_server.url(query))
        producer = NatsAdapter.from_url(nats_server.url(query))
        await consumer.connect()
        await producer.connect()
        try:

            async def take(delivery: Delivery) -> None:
                got.append(delivery.message.body)
                await delivery.ack()

            await consumer.subscribe(SubscriptionSpec(channel=channel), take)
            await producer.publish(channel, [Message({"ce-id": "0"}, b"0", dedupe_id="0")])
            await wait_until(lambda: got == [b"0"], what="the first message")
            batch = [Message({"ce-id": str(i)}, b"%d" % i, dedupe_id=str(i)) for i in (1, 2)]
            nc = producer.connection
            assert nc is not None
            nc._max_payload = 5  # nats-py refuses the last one (MaxPayloadError), every version
            with pytest.raises(PublishError):
                await producer.publish(channel, [*batch, refused])
            # queued messages are on their way: the flusher is woken (not left to a later PING)
            assert not nc._pending or not nc._flush_queue.empty()
            await wait_until(lambda: got == [b"0", b"1", b"2"], timeout=5, what="the rest")
        finally:
            await producer.close()
            await consumer.close()

    run(scenario())
