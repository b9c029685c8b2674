"""Every poison message ends in the dead-letter channel, and nothing is lost on the way
(issue 10: near-limit poison, failed dead-letter publishes, undecodable messages, logging)."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from typing import Any

import msgspec
import pytest

from eventbus import (
    ContentMode,
    DeadLetterQueue,
    Event,
    EventBus,
    Message,
    RejectedEventError,
    RetryPolicy,
)
from eventbus._adapter._contract import DEAD_LETTER_GROUP, Delivery, SubscriptionSpec
from eventbus._wire._bindings import encode
from eventbus.testing import BasicAdapter, run, wait_until
from eventbus.testing._conformance import dead_letter_headers, near_limit_event, settle


def _name() -> str:
    return f"dl-{uuid.uuid4().hex[:12]}"


async def _reader(bus: EventBus, channel: str, sink: list[Message]) -> Any:
    async def take(delivery: Delivery) -> None:
        sink.append(delivery.message)
        await delivery.ack()

    return await bus.adapter.subscribe(
        SubscriptionSpec(channel=channel, group=DEAD_LETTER_GROUP), take
    )


# -- a failed dead-letter publish goes back to the broker (defect 5) ----------------------------


def test_a_failed_dead_letter_publish_nacks_and_the_message_comes_back() -> None:
    """The dead-letter channel refuses the first two dead letters: the message must be nacked
    (redelivered), never acked, and end up dead-lettered exactly once."""

    async def scenario() -> None:
        refusals = 2

        def refuse(channel: str) -> bool:
            nonlocal refusals
            if channel.endswith(".dlq") and refusals:
                refusals -= 1
                return True
            return False

        adapter = BasicAdapter(_name(), fail_publish=refuse)
        calls = 0
        dead: list[Message] = []
        async with EventBus(adapter, retry=RetryPolicy.never()) as bus:

            async def poison(event: Event[Any]) -> None:
                nonlocal calls
                calls += 1
                raise RuntimeError("poison")

            sub = bus.subscribe("orders.placed", poison)
            await sub
            assert sub.dead_letter_channel is not None
            reader = await _reader(bus, sub.dead_letter_channel, dead)
            sent = Event(type="orders.placed", source="/t", data={"n": 1})
            await bus.publish(sent)
            await wait_until(lambda: len(dead) == 1, what="the dead letter")
            await settle()
            await reader.close()
        assert adapter.failed_publishes == 2
        assert calls == 3, "the message was not redelivered after a failed dead-letter publish"
        assert len(dead) == 1
        assert dead_letter_headers(dead[0])["deadletterreason"] == "handler-error"
        assert sub.stats.dead_lettered == 1

    run(scenario())


# -- near the size limit (defect 4) -------------------------------------------------------------


@pytest.mark.parametrize("mode", list(ContentMode))
@pytest.mark.parametrize("limit", [2048, 64 * 1024])
def test_poison_near_a_small_limit_is_dead_lettered(mode: ContentMode, limit: int) -> None:
    async def scenario() -> None:
        url = f"memory://{_name()}?max_message_bytes={limit}"
        dead: list[Message] = []
        async with EventBus(url, retry=RetryPolicy.never(), content_mode=mode) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("no: " + "because " * 100)

            sub = bus.subscribe("big.thing", poison)
            await sub
            assert sub.dead_letter_channel is not None
            reader = await _reader(bus, sub.dead_letter_channel, dead)
            event = near_limit_event("big.thing", limit, "ce-headers", mode)
            original = encode(event, "ce-headers", mode)
            await bus.publish(event)
            await wait_until(lambda: len(dead) == 1, what="the dead letter")
            await settle(0.1)
            await reader.close()
        (letter,) = dead
        attributes = dead_letter_headers(letter)
        if not attributes:  # structured mode, annotated inside the JSON body
            members = msgspec.json.decode(letter.body)
            attributes = {k: v for k, v in members.items() if k.startswith("deadletter")}
        assert attributes["deadletterreason"] == "handler-error"
        assert str(attributes["deadlettererror"]).startswith("no: because")
        if "deadlettertruncated" in attributes:
            assert int(attributes["deadlettertruncated"]) == len(original.body)
            assert original.body.startswith(letter.body)
        assert letter.size() <= limit
        assert sub.stats.dead_lettered == 1

    run(scenario())


def test_undecodable_message_near_the_limit_is_dead_lettered() -> None:
    async def scenario() -> None:
        limit = 4096
        dead: list[Message] = []
        async with EventBus(f"memory://{_name()}?max_message_bytes={limit}") as bus:

            async def handler(event: Event[Any]) -> None:
                raise AssertionError("never called")

            sub = bus.subscribe("raw.thing", handler)
            await sub
            assert sub.dead_letter_channel is not None
            reader = await _reader(bus, sub.dead_letter_channel, dead)
            garbage = Message({"ce-specversion": "1.0", "ce-id": "x"}, b"\xff" * (limit - 100))
            await bus.adapter.publish(sub.channel, [garbage])
            await wait_until(lambda: len(dead) == 1, what="the dead letter")
            await reader.close()
        attributes = dead_letter_headers(dead[0])
        assert attributes["deadletterreason"] == "decode-error"
        assert int(attributes["deadlettertruncated"]) == limit - 100

    run(scenario())


# -- whatever a decoder raises, the message is dead-lettered (defect 6) --------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {
            "ce-specversion": "1.0",
            "ce-id": "1",
            "ce-source": "/s",
            "ce-type": "t",
            "ce-\ud800": "x",
        },
        {"ce-specversion": "1.0", "ce-id": ["1", "2"], "ce-source": "/s", "ce-type": "t"},
        {"ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t", "ce-x": b"\xff"},
    ],
    ids=["lone-surrogate", "repeated-ce-id", "invalid-utf8"],
)
def test_undecodable_headers_are_dead_lettered_not_redelivered(headers: dict[str, Any]) -> None:
    async def scenario() -> None:
        dead: list[Message] = []
        good: list[str] = []
        async with EventBus(f"memory://{_name()}") as bus:

            async def handler(event: Event[Any]) -> None:
                good.append(event.id)

            sub = bus.subscribe("t", handler)
            await sub
            assert sub.dead_letter_channel is not None
            reader = await _reader(bus, sub.dead_letter_channel, dead)
            await bus.adapter.publish(sub.channel, [Message(headers, b"")])
            ok = Event(type="t", source="/s")
            await bus.publish(ok)
            await wait_until(lambda: len(dead) == 1 and len(good) == 1)
            await settle()
            await reader.close()
        assert good == [ok.id]
        assert len(dead) == 1
        assert dead_letter_headers(dead[0])["deadletterreason"] == "decode-error"
        assert sub.stats.received == 2

    run(scenario())


# -- retries and dead letters are logged, rate-limited (defect 13) -------------------------------


def test_retries_are_logged_with_event_id_attempt_and_traceback_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = RetryPolicy(max_attempts=3, initial_delay=0.01, jitter=0.0)

    async def scenario() -> str:
        async with EventBus(f"memory://{_name()}", retry=policy) as bus:

            async def poison(event: Event[Any]) -> None:
                raise KeyError("missing-thing")

            sub = bus.subscribe("log.me", poison)
            await sub
            event = Event(type="log.me", source="/s")
            await bus.publish(event)
            await wait_until(lambda: sub.stats.dead_lettered == 1)
        return event.id

    with caplog.at_level(logging.DEBUG, logger="eventbus"):
        event_id = run(scenario())
    retries = [r for r in caplog.records if getattr(r, "outcome", None) == "retry"]
    assert [r.attempt for r in retries] == [1, 2]  # type: ignore[attr-defined]
    for record in retries:
        assert record.levelno == logging.INFO
        assert event_id in record.getMessage() and "missing-thing" in record.getMessage()
        assert record.exc_info is not None and record.exc_info[0] is KeyError
    (dead,) = [r for r in caplog.records if getattr(r, "outcome", None) == "dead-lettered"]
    assert dead.levelno == logging.WARNING
    assert event_id in dead.getMessage() and "after 3 attempt(s)" in dead.getMessage()
    assert dead.exc_info is not None and dead.exc_info[0] is KeyError


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_a_rejected_event_is_logged_without_a_traceback_unless_debugging(
    caplog: pytest.LogCaptureFixture, level: int
) -> None:
    async def scenario() -> None:
        async with EventBus(f"memory://{_name()}") as bus:

            async def refuse(event: Event[Any]) -> None:
                raise RejectedEventError("amount must be positive", reason="validation-error")

            sub = bus.subscribe("log.rejected", refuse)
            await sub
            await bus.publish(Event(type="log.rejected", source="/s"))
            await wait_until(lambda: sub.stats.dead_lettered == 1)

    with caplog.at_level(level, logger="eventbus"):
        run(scenario())
    (dead,) = [r for r in caplog.records if getattr(r, "outcome", None) == "dead-lettered"]
    assert dead.levelno == logging.WARNING
    assert "(validation-error)" in dead.getMessage()
    assert "amount must be positive" in dead.getMessage()
    if level == logging.DEBUG:
        assert dead.exc_info is not None and dead.exc_info[0] is RejectedEventError
    else:
        assert not dead.exc_info


def test_a_flood_of_poison_is_logged_in_a_few_lines(caplog: pytest.LogCaptureFixture) -> None:
    n = 3000

    async def scenario() -> None:
        async with EventBus(f"memory://{_name()}", retry=RetryPolicy.never()) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("poison")

            sub = bus.subscribe("flood", poison)
            await sub
            await bus.publish_many(Event(type="flood", source="/s", data=i) for i in range(n))
            await wait_until(lambda: sub.stats.dead_lettered == n, timeout=60)

    with caplog.at_level(logging.INFO, logger="eventbus"):
        run(scenario(), timeout=120)
    lines = [r for r in caplog.records if r.name == "eventbus"]
    shown = [r for r in lines if getattr(r, "outcome", None) == "dead-lettered"]
    summaries = [r for r in lines if hasattr(r, "suppressed")]
    assert len(lines) <= 20, f"{len(lines)} log lines for {n} poison events"
    assert shown and summaries
    assert len(shown) + sum(r.suppressed for r in summaries) == n  # type: ignore[attr-defined]
    assert all(r.levelno == logging.WARNING for r in summaries)


def test_a_truncated_dead_letter_is_listed_but_never_replayed() -> None:
    """Its body is only the first bytes of the event's: replaying it would publish a cut event."""

    async def scenario() -> None:
        limit = 2048
        async with EventBus(
            f"memory://{_name()}?max_message_bytes={limit}", retry=RetryPolicy.never()
        ) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("no")

            sub = bus.subscribe("cut.thing", poison)
            await sub
            assert sub.dead_letter_channel is not None
            event = Event(
                type="cut.thing",
                source="/c",
                datacontenttype="application/octet-stream",
                data=b"x" * (limit - 300),
            )
            await bus.publish(event)
            await wait_until(lambda: sub.stats.dead_lettered == 1)
            queue = DeadLetterQueue(bus.adapter, sub.channel)
            (entry,) = await queue.list()
            assert entry.reason == "handler-error"
            assert entry.event is None and "truncated dead letter" in (entry.problem or "")
            result = await queue.replay(check_targets=False)
            assert result.replayed == 0 and result.skipped == 1
            (still,) = await queue.list()
            assert still.id == event.id

    run(scenario())


@dataclasses.dataclass
class Checked:
    """A data type whose own check raises something msgspec passes through (not ValueError)."""

    amount: int

    def __post_init__(self) -> None:
        if self.amount < 0:
            raise RuntimeError("negative amounts are not allowed")


def test_a_data_type_raising_anything_is_dead_lettered_not_redelivered() -> None:
    async def scenario() -> None:
        dead: list[Message] = []
        handled: list[int] = []
        async with EventBus(f"memory://{_name()}") as bus:

            async def handler(event: Event[Checked]) -> None:
                assert event.data is not None
                handled.append(event.data.amount)

            sub = bus.subscribe("pay", handler)
            await sub
            assert sub.dead_letter_channel is not None
            reader = await _reader(bus, sub.dead_letter_channel, dead)
            await bus.publish(Event(type="pay", source="/s", data={"amount": -1}))
            await bus.publish(Event(type="pay", source="/s", data={"amount": 5}))
            await wait_until(lambda: len(dead) == 1 and handled == [5])
            await settle()
            await reader.close()
        attributes = dead_letter_headers(dead[0])
        assert attributes["deadletterreason"] == "decode-error"
        assert "negative amounts" in attributes["deadlettererror"]
        assert sub.stats.received == 2

    run(scenario())


def test_attempts_counted_by_the_bus_keep_two_sources_apart() -> None:
    """Where the broker does not count deliveries, the bus counts attempts per event: per
    source + id (CloudEvents identity), so another producer's event with the same id, arriving
    while the first is being retried, gets its own retries instead of being dead-lettered."""

    async def scenario() -> None:
        adapter = BasicAdapter(_name())
        seen: list[tuple[str, int]] = []
        retry = RetryPolicy(max_attempts=3, initial_delay=0.5, max_delay=0.5, jitter=0)
        async with EventBus(adapter, retry=retry) as bus:

            async def handler(event: Event[Any]) -> None:
                seen.append((event.source, sum(s == event.source for s, _ in seen) + 1))
                if event.source == "/a" or seen[-1][1] == 1:
                    raise RuntimeError("not yet")

            sub = await bus.subscribe("t.order", handler, group="g", max_in_flight=4)
            await bus.publish(Event(type="t.order", source="/a", id="same"))
            await wait_until(lambda: ("/a", 1) in seen, what="/a's first attempt")
            await bus.publish(Event(type="t.order", source="/b", id="same"))
            await wait_until(lambda: sub.stats.dead_lettered == 1 and ("/b", 2) in seen)
            await settle()
            assert sorted(seen) == [("/a", 1), ("/a", 2), ("/a", 3), ("/b", 1), ("/b", 2)]

    run(scenario())
