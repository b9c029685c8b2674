"""Backpressure and failure containment on memory://: bounded queues make publishers wait,
max_in_flight caps handlers, a retry budget caps retries, a circuit breaker pauses and probes,
and poison events reach the dead-letter channel while healthy ones keep flowing."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from eventbus import (
    DEAD_LETTER_GROUP,
    BreakerState,
    CircuitBreaker,
    ConfigurationError,
    ConsumeContext,
    Event,
    EventBus,
    RejectedEventError,
    RetryBudget,
    RetryPolicy,
    decode,
)
from eventbus._memory import MemoryAdapter
from eventbus.testing import wait_until


def dead_letters(bus: EventBus, channel: str) -> list[Event[Any]]:
    broker = bus.adapter.broker  # type: ignore[attr-defined]
    return [decode(m, "ce-headers") for m in broker.peek(f"{channel}.dlq", DEAD_LETTER_GROUP)]


async def test_publishing_waits_while_the_queue_is_full() -> None:
    release = asyncio.Event()
    handled = 0

    async def slow(event: Event[Any]) -> None:
        nonlocal handled
        await release.wait()
        handled += 1

    adapter = MemoryAdapter(max_queue=10)
    async with EventBus(adapter) as bus:
        await bus.subscribe("bp.job", slow, group="g", max_in_flight=2)
        publisher = asyncio.create_task(
            bus.publish_many(Event(type="bp.job", source="/t", data=i) for i in range(50))
        )
        await asyncio.sleep(0.3)
        # The producer is parked, not buffering: the queue holds its bound and no more.
        assert not publisher.done()
        assert adapter.broker.depth("bp.job", "g") == 10
        assert adapter.broker.stats.published == 10
        release.set()
        await asyncio.wait_for(publisher, 10)
        await wait_until(lambda: handled == 50, what="all handled after the stall")
    assert adapter.broker.stats.published == 50


async def test_max_in_flight_caps_concurrent_handlers() -> None:
    running = peak = done = 0

    async def handler(event: Event[Any]) -> None:
        nonlocal running, peak, done
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.01)
        running -= 1
        done += 1

    async with EventBus() as bus:
        await bus.subscribe("cap.job", handler, group="g", max_in_flight=3)
        await bus.publish_many(Event(type="cap.job", source="/t") for _ in range(40))
        await wait_until(lambda: done == 40, what="all handled")
    assert peak == 3


async def test_retry_budget_caps_retries_and_dead_letters_the_rest() -> None:
    budget = RetryBudget(0.1, min_per_second=0, window=30)
    policy = RetryPolicy(max_attempts=5, initial_delay=0.001, max_delay=0.002, jitter=0)

    async def broken(event: Event[Any]) -> None:
        raise ConnectionError("inventory service unreachable")

    async with EventBus(retry=policy) as bus:
        sub = await bus.subscribe("rb.job", broken, group="g", middleware=[budget])
        await bus.publish_many(Event(type="rb.job", source="/t") for _ in range(100))
        await wait_until(lambda: sub.stats.dead_lettered == 100, what="all dead-lettered")
        dead = dead_letters(bus, "rb.job")
    # Without a budget 400 retries (4 per event); with it, at most 10% of 100 first deliveries.
    assert sub.stats.retried <= 10
    assert budget.exhausted >= 85
    reasons = [e.extensions["deadletterreason"] for e in dead]
    assert reasons.count("retry-budget-exhausted") == budget.exhausted
    assert "inventory service unreachable" in next(
        str(e.extensions["deadlettererror"])
        for e in dead
        if e.extensions["deadletterreason"] == "retry-budget-exhausted"
    )


async def test_circuit_breaker_opens_pauses_probes_and_closes() -> None:
    transitions: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        failure_threshold=3,
        cool_down=0.6,
        max_cool_down=2.0,
        on_state_change=lambda old, new: transitions.append((old.value, new.value)),
    )
    healthy = False
    calls = 0
    handled: set[int] = set()

    async def call_dependency(event: Event[Any]) -> None:
        nonlocal calls
        calls += 1
        if not healthy:
            raise ConnectionError("payment provider down")
        handled.add(event.data)

    policy = RetryPolicy(max_attempts=100, initial_delay=0.01, max_delay=0.01, jitter=0)
    async with EventBus(retry=policy) as bus:
        sub = await bus.subscribe(
            "cb.job", call_dependency, group="g", max_in_flight=2, middleware=[breaker]
        )
        await bus.publish_many(Event(type="cb.job", source="/t", data=i) for i in range(30))
        await wait_until(lambda: breaker.state is BreakerState.OPEN, what="breaker open")
        assert sub.paused
        await asyncio.sleep(0.05)
        at_open = calls
        await asyncio.sleep(0.3)  # within the cool-down: no call reaches the dependency
        assert calls == at_open
        # Half-open after 0.6 s: one probe, which fails: open again for 1.2 s.
        await wait_until(lambda: calls == at_open + 1, what="the first probe")
        await asyncio.sleep(0.3)
        assert breaker.state is BreakerState.OPEN and calls == at_open + 1
        healthy = True
        await wait_until(lambda: breaker.state is BreakerState.CLOSED, what="breaker closed")
        assert not sub.paused
        await wait_until(lambda: len(handled) == 30, what="everything handled after recovery")
    assert transitions == [
        ("closed", "open"),
        ("open", "half-open"),
        ("half-open", "open"),
        ("open", "half-open"),
        ("half-open", "closed"),
    ]
    assert breaker.opened == 2
    assert sub.stats.dead_lettered == 0


async def test_rejected_events_do_not_trip_the_breaker() -> None:
    breaker = CircuitBreaker(failure_threshold=2, cool_down=10)

    async def reject(event: Event[Any]) -> None:
        raise RejectedEventError("bad order", reason="validation-error")

    async with EventBus() as bus:
        sub = await bus.subscribe("cb.reject", reject, group="g", middleware=[breaker])
        await bus.publish_many(Event(type="cb.reject", source="/t") for _ in range(10))
        await wait_until(lambda: sub.stats.dead_lettered == 10, what="all rejected")
    assert breaker.state is BreakerState.CLOSED


def test_bad_breaker_and_budget_settings_are_named() -> None:
    with pytest.raises(ConfigurationError, match="failure_threshold must be >= 1"):
        CircuitBreaker(failure_threshold=0)
    with pytest.raises(ConfigurationError, match="cool_down must be > 0"):
        CircuitBreaker(cool_down=10, max_cool_down=5)
    with pytest.raises(ConfigurationError, match="ratio must be >= 0"):
        RetryBudget(-1)


async def test_poison_events_reach_the_dead_letter_channel_while_healthy_ones_flow() -> None:
    policy = RetryPolicy(max_attempts=3, initial_delay=0.2, max_delay=0.3, jitter=0)
    handled: list[int] = []
    dead_when_healthy_done: int | None = None
    sub: Any = None

    async def handle(event: Event[Any], context: ConsumeContext) -> None:
        nonlocal dead_when_healthy_done
        if event.data % 10 == 0:
            raise ValueError(f"cannot parse order {event.data}")
        handled.append(event.data)
        if len(handled) == 180:
            dead_when_healthy_done = sub.stats.dead_lettered

    async with EventBus(retry=policy) as bus:
        sub = await bus.subscribe("po.job", handle, group="g", max_in_flight=8)
        await bus.publish_many(Event(type="po.job", source="/t", data=i) for i in range(200))
        await wait_until(lambda: sub.stats.dead_lettered == 20, what="20 poison dead-lettered")
        dead = dead_letters(bus, "po.job")
    # Every healthy event was handled while the poison ones were still being retried.
    assert sorted(handled) == [i for i in range(200) if i % 10]
    assert dead_when_healthy_done == 0
    assert sorted(e.data for e in dead) == list(range(0, 200, 10))
    for event in dead:
        assert int(event.extensions["deadletterattempts"]) == 3
        assert event.extensions["deadletterreason"] == "handler-error"
        assert event.extensions["deadletterchannel"] == "po.job"
    assert sub.stats.retried == 40
