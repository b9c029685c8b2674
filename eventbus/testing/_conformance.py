"""The adapter conformance suite: one set of scenario tests every adapter must pass.

Subclass :class:`AdapterConformance` in a test module and provide a ``bus_url`` fixture whose URL
several buses can open at once, sharing one broker::

    class TestMyAdapter(AdapterConformance):
        @pytest.fixture
        def bus_url(self, my_server):
            return my_server.url

Tests that need a semantic the adapter lacks (per its :class:`~eventbus.Capabilities`) are
skipped; tests of what an adapter *cannot* do check that subscribing fails cleanly instead.
Each test uses fresh, unique event types (and so channels), so a shared server is fine. Tests
are plain functions that run their own event loop: no pytest-asyncio needed.

Set ``short_ack_wait`` to the shortest ack wait the adapter honours (default 1 s; Pub/Sub's
floor is 10 s) and, where the broker takes its ack deadline or lock duration from the URL,
override the ``short_ack_bus_url`` fixture: the drain scenario then waits longer than that and
fails if an event it acked comes back.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from urllib.parse import unquote

import msgspec
import pytest

from eventbus._adapter._contract import (
    DEAD_LETTER_GROUP,
    AdapterSubscription,
    Capabilities,
    Delivery,
    Semantic,
    SubscriptionSpec,
)
from eventbus._adapter._plugins import create_adapter
from eventbus._bus._dead_letters import wire_size
from eventbus._bus._eventbus import EventBus
from eventbus._bus._retry import RetryPolicy
from eventbus._errors import LimitExceededError, UnsupportedSemanticError
from eventbus._wire._bindings import ContentMode, decode, encode
from eventbus._wire._event import Event
from eventbus._wire._message import Message
from eventbus.testing._job_checks import JobChecks
from eventbus.testing._rpc_checks import RequestReplyChecks

__all__ = ["AdapterConformance", "run", "wait_until"]

T = TypeVar("T")
FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay=0.02, max_delay=0.1, jitter=0.0)


class Order(msgspec.Struct, frozen=True):
    order_id: str
    amount_cents: int


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run a scenario on a fresh event loop, failing if it takes longer than ``timeout``."""
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def wait_until(
    predicate: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    """Wait until ``predicate()`` is true; AssertionError naming ``what`` after ``timeout``
    seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.005)


def near_limit_event(
    event_type: str, limit: int, binding: str, mode: ContentMode = ContentMode.BINARY
) -> Event[str]:
    """An event whose message is within 100 bytes of ``limit`` (as brokers count it: headers
    with framing, and the body), so its annotated dead letter does not fit."""
    event = Event(type=event_type, source="/c", data="")
    size = wire_size(encode(event, binding, mode))
    return Event(
        type=event_type, source="/c", id=event.id, time=event.time, data="x" * (limit - size - 60)
    )


def dead_letter_headers(message: Message) -> dict[str, Any]:
    """The dead-letter attributes in a dead letter's headers (any binding's prefix)."""
    out: dict[str, Any] = {}
    for key, value in message.headers.items():
        low = key.lower()
        for prefix in ("ce-", "ce_", "cloudevents_", "cloudevents:"):  # ce_: Kafka
            if low.startswith(prefix + "deadletter"):
                text = value.decode() if isinstance(value, bytes) else value
                out[low[len(prefix) :]] = unquote(text) if isinstance(text, str) else text
    return out


async def settle(seconds: float = 0.3) -> None:
    """Give stray (wrong) deliveries a chance to show up before asserting they did not."""
    await asyncio.sleep(seconds)


class AdapterConformance(RequestReplyChecks, JobChecks):
    """Scenario tests selected by the adapter's capabilities. Provide ``bus_url``."""

    #: Seconds a broker may take to start delivering to a fresh subscription.
    subscribe_settle: float = 0.0
    #: An ``ack_wait`` (seconds) the adapter honours on ``short_ack_bus_url``: an unacked
    #: message comes back after about this long, so tests can check that acks were sent.
    short_ack_wait: float = 1.0

    @pytest.fixture
    def short_ack_bus_url(self, bus_url: str) -> str:
        """A URL whose subscriptions honour ``ack_wait=short_ack_wait`` (override where the
        broker's ack deadline or lock duration is configured on the URL)."""
        return bus_url

    @pytest.fixture
    def bus_url(self) -> str:
        raise NotImplementedError("provide a bus_url fixture in the subclass")

    @pytest.fixture
    def capabilities(self, bus_url: str) -> Capabilities:
        return create_adapter(bus_url).capabilities

    @pytest.fixture
    def prefix(self) -> str:
        return f"conf.t{uuid.uuid4().hex[:10]}"

    @staticmethod
    def require(capabilities: Capabilities, *semantics: Semantic) -> None:
        missing = [s.value for s in semantics if not capabilities.has(s)]
        if missing:
            pytest.skip(f"adapter lacks {', '.join(missing)}")

    async def started(self, *subs: Awaitable[Any]) -> None:
        for sub in subs:
            await sub
        if self.subscribe_settle:
            await asyncio.sleep(self.subscribe_settle)

    # -- publish / subscribe ------------------------------------------------------------------

    @pytest.mark.parametrize("mode", [ContentMode.BINARY, ContentMode.STRUCTURED])
    def test_publish_subscribe_roundtrip(
        self, bus_url: str, prefix: str, mode: ContentMode
    ) -> None:
        async def scenario() -> None:
            got: list[Event[Order]] = []
            async with EventBus(bus_url, content_mode=mode) as bus:

                async def handler(event: Event[Order]) -> None:
                    got.append(event)

                await self.started(bus.subscribe(f"{prefix}.order.placed", handler))
                sent = Event(
                    type=f"{prefix}.order.placed",
                    source="/conformance",
                    subject="o-1",
                    data=Order("o-1", 1250),
                    extensions={"tenant": "acme", "priority": 3, "urgent": True},
                )
                await bus.publish(sent)
                await wait_until(lambda: len(got) == 1, what="the event")
                await settle(0.1)
            assert len(got) == 1
            (event,) = got
            assert event.data == Order("o-1", 1250)
            assert (event.id, event.source, event.type, event.subject) == (
                sent.id,
                sent.source,
                sent.type,
                sent.subject,
            )
            assert event.time == sent.time
            assert event.extensions["tenant"] == "acme"
            assert str(event.extensions["priority"]) == "3"
            assert str(event.extensions["urgent"]).lower() == "true"

        run(scenario())

    def test_fan_out_without_group(self, bus_url: str, prefix: str) -> None:
        async def scenario() -> None:
            seen: dict[str, list[str]] = {"a": [], "b": []}
            async with EventBus(bus_url) as a, EventBus(bus_url) as b:

                def recorder(name: str) -> Callable[[Event[Any]], Awaitable[None]]:
                    async def handler(event: Event[Any]) -> None:
                        seen[name].append(event.id)

                    return handler

                await self.started(
                    a.subscribe(f"{prefix}.ping", recorder("a")),
                    b.subscribe(f"{prefix}.ping", recorder("b")),
                )
                events = [Event(type=f"{prefix}.ping", source="/c", data=i) for i in range(10)]
                await a.publish_many(events)
                await wait_until(lambda: len(seen["a"]) >= 10 and len(seen["b"]) >= 10)
                await settle()
            ids = [e.id for e in events]
            assert sorted(seen["a"]) == sorted(ids)
            assert sorted(seen["b"]) == sorted(ids)

        run(scenario())

    def test_group_competing_consumers(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require(capabilities, Semantic.CONSUMER_GROUPS)

        async def scenario() -> None:
            seen: dict[str, list[str]] = {"a": [], "b": []}
            async with EventBus(bus_url) as a, EventBus(bus_url) as b:

                def worker(name: str) -> Callable[[Event[Any]], Awaitable[None]]:
                    async def handler(event: Event[Any]) -> None:
                        await asyncio.sleep(0.005)
                        seen[name].append(event.id)

                    return handler

                await self.started(
                    a.subscribe(f"{prefix}.job", worker("a"), group="workers", max_in_flight=1),
                    b.subscribe(f"{prefix}.job", worker("b"), group="workers", max_in_flight=1),
                )
                events = [Event(type=f"{prefix}.job", source="/c", data=i) for i in range(40)]
                await a.publish_many(events)
                await wait_until(lambda: len(seen["a"]) + len(seen["b"]) >= 40)
                await settle()
            ids = {e.id for e in events}
            assert set(seen["a"]) | set(seen["b"]) == ids
            assert not set(seen["a"]) & set(seen["b"]), "an event went to both group members"
            assert len(seen["a"]) + len(seen["b"]) == 40
            assert seen["a"] and seen["b"], "one group member did all the work"

        run(scenario())

    def test_publish_many_keeps_order(self, bus_url: str, prefix: str) -> None:
        async def scenario() -> None:
            got: list[int] = []
            async with EventBus(bus_url) as bus:

                async def handler(event: Event[int]) -> None:
                    assert event.data is not None
                    got.append(event.data)

                await self.started(bus.subscribe(f"{prefix}.seq", handler, max_in_flight=1))
                await bus.publish_many(
                    Event(type=f"{prefix}.seq", source="/c", data=i) for i in range(50)
                )
                await wait_until(lambda: len(got) >= 50)
            assert got == list(range(50))

        run(scenario())

    def test_wildcard_subscription(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        if not capabilities.has(Semantic.WILDCARD_SUBSCRIBE):
            with pytest.raises(UnsupportedSemanticError):
                EventBus(bus_url).subscribe(f"{prefix}.order.*", lambda event: None)
            return

        async def scenario() -> None:
            got: list[str] = []
            async with EventBus(bus_url) as bus:

                async def handler(event: Event[Any]) -> None:
                    got.append(event.type)

                await self.started(bus.subscribe(f"{prefix}.order.*", handler))
                for suffix in ("order.placed", "payment.captured", "order.cancelled"):
                    await bus.publish(Event(type=f"{prefix}.{suffix}", source="/c"))
                await wait_until(lambda: len(got) >= 2)
                await settle()
            assert sorted(got) == [f"{prefix}.order.cancelled", f"{prefix}.order.placed"]

        run(scenario())

    # -- ack / nack / retry / dead letter -----------------------------------------------------

    def test_nack_redelivers_with_attempt_counts(self, bus_url: str, prefix: str) -> None:
        async def scenario() -> None:
            attempts: list[int] = []
            async with EventBus(bus_url, retry=FAST_RETRY) as bus:

                async def flaky(event: Event[Any], context: Any) -> None:
                    attempts.append(context.attempt)
                    if len(attempts) < 3:
                        raise RuntimeError("transient")

                sub = bus.subscribe(f"{prefix}.flaky", flaky)
                await self.started(sub)
                await bus.publish(Event(type=f"{prefix}.flaky", source="/c"))
                await wait_until(lambda: sub.stats.handled == 1, what="success on attempt 3")
                await settle()
            assert attempts == [1, 2, 3]
            assert sub.stats.retried == 2
            assert sub.stats.dead_lettered == 0

        run(scenario())

    def test_retry_then_dead_letter_with_reason(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        async def scenario() -> None:
            calls = 0
            dead: list[Event[Any]] = []
            async with EventBus(bus_url, retry=FAST_RETRY) as bus:

                async def poison(event: Event[Order]) -> None:
                    nonlocal calls
                    calls += 1
                    raise ValueError("amount must be positive")

                async def dlq_reader(event: Event[Any]) -> None:
                    dead.append(event)

                sub = bus.subscribe(f"{prefix}.order", poison)
                await self.started(sub)
                assert sub.dead_letter_channel is not None
                await self.started(
                    bus.subscribe(
                        ">",
                        dlq_reader,
                        channel=sub.dead_letter_channel,
                        group=DEAD_LETTER_GROUP
                        if capabilities.has(Semantic.CONSUMER_GROUPS)
                        else None,
                        dead_letter_channel=False,
                    )
                )
                sent = Event(type=f"{prefix}.order", source="/c", data=Order("o-9", -1))
                await bus.publish(sent)
                await wait_until(lambda: len(dead) == 1, what="the dead letter")
                await settle()
            assert calls == FAST_RETRY.max_attempts
            assert len(dead) == 1
            (event,) = dead
            assert event.id == sent.id and event.type == sent.type
            assert event.data == {"order_id": "o-9", "amount_cents": -1}
            ext = event.extensions
            assert ext["deadletterreason"] == "handler-error"
            assert ext["deadlettererrortype"] == "ValueError"
            assert ext["deadlettererror"] == "amount must be positive"
            assert str(ext["deadletterattempts"]) == str(FAST_RETRY.max_attempts)
            assert sub.stats.dead_lettered == 1

        run(scenario())

    def test_delayed_redelivery_waits(self, bus_url: str, prefix: str) -> None:
        async def scenario() -> None:
            stamps: list[float] = []
            policy = RetryPolicy(max_attempts=2, initial_delay=0.4, jitter=0.0)
            async with EventBus(bus_url, retry=policy) as bus:

                async def handler(event: Event[Any]) -> None:
                    stamps.append(time.monotonic())
                    if len(stamps) == 1:
                        raise RuntimeError("later, please")

                sub = bus.subscribe(f"{prefix}.later", handler)
                await self.started(sub)
                await bus.publish(Event(type=f"{prefix}.later", source="/c"))
                await wait_until(lambda: sub.stats.handled == 1)
            assert len(stamps) == 2
            assert stamps[1] - stamps[0] >= 0.35

        run(scenario())

    def test_malformed_message_is_dead_lettered_and_loop_goes_on(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        async def scenario() -> None:
            good: list[str] = []
            raw_dead: list[Message] = []
            async with EventBus(bus_url) as bus:

                async def handler(event: Event[Order]) -> None:
                    good.append(event.id)

                sub = bus.subscribe(f"{prefix}.order", handler)
                await self.started(sub)
                assert sub.dead_letter_channel is not None

                async def take(delivery: Delivery) -> None:
                    raw_dead.append(delivery.message)
                    await delivery.ack()

                group = DEAD_LETTER_GROUP if capabilities.has(Semantic.CONSUMER_GROUPS) else None
                reader = await bus.adapter.subscribe(
                    SubscriptionSpec(channel=sub.dead_letter_channel, group=group), take
                )
                if self.subscribe_settle:
                    await asyncio.sleep(self.subscribe_settle)
                try:
                    garbage = Message(headers={"ce-specversion": "1.0", "ce-id": ""}, body=b"\xff")
                    if capabilities.binding == "amqp":
                        garbage = Message(headers={"cloudEvents_specversion": "1.0"}, body=b"\xff")
                    await bus.adapter.publish(sub.channel, [garbage])
                    wrong = Event(type=f"{prefix}.order", source="/c", data={"order_id": "o-2"})
                    await bus.publish(wrong)
                    ok = Event(type=f"{prefix}.order", source="/c", data=Order("o-1", 1))
                    await bus.publish(ok)
                    await wait_until(lambda: len(good) == 1 and len(raw_dead) == 2)
                    await settle()
                finally:
                    await reader.close()
            assert good == [ok.id]
            reasons = []
            for message in raw_dead:
                lowered = {k.lower(): v for k, v in message.headers.items()}
                reason = next(
                    (v for k, v in lowered.items() if k.endswith("deadletterreason")), None
                )
                if reason is None:  # structured mode: the reason is a JSON member
                    reason = msgspec.json.decode(message.body).get("deadletterreason")
                reasons.append(reason.decode() if isinstance(reason, bytes) else reason)
            assert sorted(reasons) == ["data-error", "decode-error"]
            wrong_dead = next(
                m for m, r in zip(raw_dead, reasons, strict=True) if r == "data-error"
            )
            dead_event = decode(wrong_dead, capabilities.binding)
            assert dead_event.id == wrong.id
            assert "amount_cents" in str(dead_event.extensions["deadlettererror"])

        run(scenario())

    def test_without_dead_letter_channel_poison_is_dropped_and_loop_goes_on(
        self, bus_url: str, prefix: str
    ) -> None:
        async def scenario() -> None:
            calls: Counter[str] = Counter()
            async with EventBus(bus_url, retry=FAST_RETRY) as bus:

                async def handler(event: Event[int]) -> None:
                    calls[event.id] += 1
                    if event.data == 0:
                        raise ValueError("poison")

                sub = bus.subscribe(f"{prefix}.drop", handler, dead_letter_channel=False)
                await self.started(sub)
                assert sub.dead_letter_channel is None
                poison = Event(type=f"{prefix}.drop", source="/c", data=0)
                good = Event(type=f"{prefix}.drop", source="/c", data=1)
                await bus.publish(poison)
                await bus.publish(good)
                await wait_until(lambda: sub.stats.handled == 1 and calls[poison.id] >= 3)
                await settle(0.5)
            assert calls[poison.id] == FAST_RETRY.max_attempts, "dropped, not redelivered"
            assert calls[good.id] == 1
            assert sub.stats.dead_lettered == 0

        run(scenario())

    def test_poison_near_the_size_limit_is_dead_lettered(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        limit = capabilities.limits.max_message_bytes
        if limit is None:
            pytest.skip("adapter declares no message size limit")
        mode = ContentMode(capabilities.content_mode)  # what the bus encodes with by default

        async def scenario() -> None:
            raw_dead: list[Message] = []
            calls = 0
            async with EventBus(bus_url, retry=RetryPolicy.never()) as bus:
                real_limit = bus.capabilities.limits.max_message_bytes or limit

                async def poison(event: Event[Any]) -> None:
                    nonlocal calls
                    calls += 1
                    raise ValueError("rejected: " + "why " * 200)

                sub = bus.subscribe(f"{prefix}.big", poison)
                await self.started(sub)
                assert sub.dead_letter_channel is not None
                reader = await self._raw_reader(bus, sub.dead_letter_channel, raw_dead)
                try:
                    event = near_limit_event(
                        f"{prefix}.big", real_limit, capabilities.binding, mode
                    )
                    await bus.publish(event)
                    await wait_until(lambda: len(raw_dead) == 1, timeout=30, what="dead letter")
                    await settle()
                finally:
                    await reader.close()
            assert len(raw_dead) == 1 and calls == 1
            (dead,) = raw_dead
            attributes = dead_letter_headers(dead)
            assert attributes["deadletterreason"] == "handler-error"
            assert str(attributes["deadlettererror"]).startswith("rejected: why")
            original = encode(event, capabilities.binding, mode).body
            if "deadlettertruncated" in attributes:
                assert str(attributes["deadlettertruncated"]) == str(len(original))
                assert original.startswith(dead.body) and len(dead.body) < len(original)
            else:
                assert dead.body == original
            assert sub.stats.dead_lettered == 1

        run(scenario())

    async def _raw_reader(
        self, bus: EventBus, channel: str, sink: list[Message]
    ) -> AdapterSubscription:
        """Read ``channel`` (a dead-letter channel) as raw messages into ``sink``."""

        async def take(delivery: Delivery) -> None:
            sink.append(delivery.message)
            await delivery.ack()

        groups = bus.capabilities.has(Semantic.CONSUMER_GROUPS)
        reader = await bus.adapter.subscribe(
            SubscriptionSpec(channel=channel, group=DEAD_LETTER_GROUP if groups else None), take
        )
        if self.subscribe_settle:
            await asyncio.sleep(self.subscribe_settle)
        return reader

    def test_long_handler_keeps_its_lock(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require(capabilities, Semantic.AT_LEAST_ONCE, Semantic.LOCK_RENEWAL)

        async def scenario() -> None:
            attempts: list[int] = []
            async with EventBus(bus_url) as bus:

                async def slow(event: Event[Any], context: Any) -> None:
                    attempts.append(context.attempt)
                    await asyncio.sleep(1.5)  # five times the ack wait

                sub = bus.subscribe(f"{prefix}.long", slow, ack_wait=0.3, max_in_flight=2)
                await self.started(sub)
                await bus.publish(Event(type=f"{prefix}.long", source="/c"))
                await wait_until(lambda: sub.stats.handled == 1, timeout=20)
                await settle(0.5)
            assert attempts == [1], "the message was redelivered while its handler ran"

        run(scenario())

    # -- ordering -----------------------------------------------------------------------------

    def test_order_per_partition_key(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        if not capabilities.has(Semantic.ORDERING_KEY):
            with pytest.raises(UnsupportedSemanticError):
                EventBus(bus_url).subscribe(f"{prefix}.k", lambda event: None, ordered=True)
            return

        async def scenario() -> None:
            handled: dict[str, list[int]] = defaultdict(list)
            failed_once: set[str] = set()
            async with EventBus(bus_url, retry=FAST_RETRY) as bus:

                async def handler(event: Event[int]) -> None:
                    key = str(event.extensions["partitionkey"])
                    assert event.data is not None
                    if event.data % 7 == 3 and event.id not in failed_once:
                        failed_once.add(event.id)
                        raise RuntimeError("fail once, keep the order anyway")
                    await asyncio.sleep(0.001 * (event.data % 3))
                    handled[key].append(event.data)

                await self.started(
                    bus.subscribe(f"{prefix}.k", handler, ordered=True, max_in_flight=8)
                )
                events = [
                    Event(
                        type=f"{prefix}.k",
                        source="/c",
                        data=i,
                        extensions={"partitionkey": f"key-{i % 4}"},
                    )
                    for i in range(60)
                ]
                await bus.publish_many(events)
                await wait_until(lambda: sum(map(len, handled.values())) >= 60, timeout=30)
            for k in range(4):
                assert handled[f"key-{k}"] == [i for i in range(60) if i % 4 == k]

        run(scenario())

    # -- shutdown -----------------------------------------------------------------------------

    def test_no_loss_when_a_subscriber_closes(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        self.require(capabilities, Semantic.CONSUMER_GROUPS, Semantic.AT_LEAST_ONCE)

        async def scenario() -> None:
            done: Counter[str] = Counter()
            n = 30
            first = EventBus(bus_url)

            async def slow(event: Event[Any]) -> None:
                await asyncio.sleep(0.05)
                done[event.id] += 1

            sub = first.subscribe(f"{prefix}.work", slow, group="g", max_in_flight=4)
            await first.open()
            await self.started(sub)
            events = [Event(type=f"{prefix}.work", source="/c", data=i) for i in range(n)]
            await first.publish_many(events)
            await wait_until(lambda: len(done) >= 5)
            await first.close(timeout=0.01)  # in-flight handlers are cut off: must come back
            async with EventBus(bus_url) as second:

                async def fast(event: Event[Any]) -> None:
                    done[event.id] += 1

                await self.started(second.subscribe(f"{prefix}.work", fast, group="g"))
                await wait_until(lambda: len(done) == n, timeout=45, what="every event")
            assert set(done) == {e.id for e in events}

        run(scenario(), timeout=90)

    def test_close_drains_in_flight_handlers(
        self, short_ack_bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        bus_url, ack_wait = short_ack_bus_url, self.short_ack_wait

        async def scenario() -> None:
            started: list[str] = []
            finished: list[str] = []
            bus = EventBus(bus_url)

            async def handler(event: Event[Any]) -> None:
                started.append(event.id)
                await asyncio.sleep(0.3)
                finished.append(event.id)

            group = "drain" if capabilities.has(Semantic.CONSUMER_GROUPS) else None
            sub = bus.subscribe(
                f"{prefix}.slow", handler, group=group, max_in_flight=5, ack_wait=ack_wait
            )
            await bus.open()
            await self.started(sub)
            await bus.publish_many(Event(type=f"{prefix}.slow", source="/c") for _ in range(5))
            await wait_until(lambda: len(started) == 5)
            drained = await bus.close(timeout=10)
            assert drained
            assert sorted(finished) == sorted(started)
            assert sub.stats.handled == 5
            if group is not None and capabilities.has(Semantic.AT_LEAST_ONCE):
                again: list[str] = []
                async with EventBus(bus_url) as other:

                    async def record(event: Event[Any]) -> None:
                        again.append(event.id)

                    await self.started(
                        other.subscribe(f"{prefix}.slow", record, group=group, ack_wait=ack_wait)
                    )
                    # An unacked message would be redelivered after the ack wait: wait longer.
                    await settle(ack_wait * 1.5 + 0.5)
                assert again == [], "drained events were acked, they must not come back"

        run(scenario(), timeout=60 + 2 * ack_wait)

    # -- limits -------------------------------------------------------------------------------

    def test_size_limit_is_enforced_before_sending(
        self, bus_url: str, prefix: str, capabilities: Capabilities
    ) -> None:
        limit = capabilities.limits.max_message_bytes
        if limit is None:
            pytest.skip("adapter declares no message size limit")

        async def scenario() -> None:
            got: list[str] = []
            async with EventBus(bus_url) as bus:

                async def handler(event: Event[Any]) -> None:
                    got.append(event.id)

                await self.started(bus.subscribe(f"{prefix}.big", handler))
                too_big = Event(type=f"{prefix}.big", source="/c", data="x" * (limit + 1))
                with pytest.raises(LimitExceededError) as info:
                    await bus.publish(too_big)
                assert info.value.maximum == limit
                assert "size" in info.value.limit
                fits = Event(type=f"{prefix}.big", source="/c", data="x" * (limit // 2))
                await bus.publish(fits)
                await wait_until(lambda: len(got) == 1)
                await settle()
            assert got == [fits.id]

        run(scenario())
