"""The batch delivery contract on memory:// (issue 14): scenarios through the real bus.

memory:// is a ``BatchingAdapter``: its pump hands the bus lists (``deliver_many``) no longer than
the room the bus reports, the pool takes a list with one offer, and handled deliveries are acked
with one ``ack_many`` per loop turn. Per message nothing may change: each message is settled as
if it came alone (ack, retry, dead letter), per-key order holds, ``max_in_flight`` bounds both
the running handlers and the leased messages, a bus closing mid-batch loses nothing, and a
paused subscription takes nothing new.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventbus import Event, EventBus, RejectedEventError, RetryPolicy
from eventbus._adapter._contract import BatchingAdapter, Delivery, SubscriptionSpec
from eventbus._memory import MemoryAdapter
from eventbus._memory._delivery import LEASED
from eventbus._wire._message import Message
from eventbus.testing import wait_until

TYPE = "batch.order"
_FAST_RETRY = RetryPolicy(max_attempts=2, initial_delay=0.0, jitter=0.0)
_examples = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _name() -> str:
    return f"batch-{uuid.uuid4().hex[:12]}"


def _event(i: int, key: str | None = None) -> Event[int]:
    extensions = {"partitionkey": key} if key is not None else {}
    return Event(type=TYPE, source="/t", id=f"e{i}", data=i, extensions=extensions)


def _leased(adapter: MemoryAdapter, group: str) -> int:
    """Messages of ``group`` leased to a consumer and not settled (broker side)."""
    queue = adapter.broker.existing_group(TYPE, group)
    assert queue is not None
    return sum(1 for c in queue._consumers for d in c.inflight if d._state == LEASED)


def test_memory_is_a_batching_adapter() -> None:
    assert isinstance(MemoryAdapter(), BatchingAdapter)


# -- settlement: every message as if it came alone ----------------------------------------------

_OUTCOMES = ["ok", "fail_once", "fail_always", "reject"]


@_examples
@given(
    outcomes=st.lists(st.sampled_from(_OUTCOMES), min_size=1, max_size=40),
    max_in_flight=st.integers(1, 8),
    keys=st.integers(0, 3),
)
def test_a_batch_of_mixed_outcomes_settles_each_message_as_if_alone(
    outcomes: list[str], max_in_flight: int, keys: int
) -> None:
    asyncio.run(_mixed(outcomes, max_in_flight, keys))


async def _mixed(outcomes: list[str], max_in_flight: int, keys: int) -> None:
    adapter = MemoryAdapter(_name())
    calls: Counter[int] = Counter()
    handled: list[int] = []

    async def handler(event: Event[int]) -> None:
        assert event.data is not None
        i = event.data
        calls[i] += 1
        await asyncio.sleep(0)  # let other handlers of the batch run meanwhile
        outcome = outcomes[i]
        if outcome == "reject":
            raise RejectedEventError("not wanted", reason="unwanted")
        if outcome == "fail_always" or (outcome == "fail_once" and calls[i] == 1):
            raise RuntimeError(f"attempt {calls[i]} of {i} fails")
        handled.append(i)

    async with EventBus(adapter, retry=_FAST_RETRY) as bus:
        sub = await bus.subscribe(TYPE, handler, group="g", max_in_flight=max_in_flight)
        await bus.publish_many(
            _event(i, f"k{i % keys}" if keys else None) for i in range(len(outcomes))
        )
        n = len(outcomes)
        await wait_until(
            lambda: (
                sub.stats.handled + sub.stats.dead_lettered == n
                and adapter.broker.depth(TYPE, "g") == 0
            ),
            what="every message settled",
        )
        assert sub.in_flight == 0

    want = {o: [i for i, x in enumerate(outcomes) if x == o] for o in _OUTCOMES}
    assert sorted(handled) == sorted(want["ok"] + want["fail_once"])  # each exactly once
    assert {i: calls[i] for i in range(n)} == {
        i: 1 if o in ("ok", "reject") else 2 for i, o in enumerate(outcomes)
    }
    dead = adapter.broker.peek(f"{TYPE}.dlq", "dlq")
    reasons = {m.headers["ce-id"]: m.headers["ce-deadletterreason"] for m in dead}
    assert reasons == {
        **{f"e{i}": "handler-error" for i in want["fail_always"]},
        **{f"e{i}": "unwanted" for i in want["reject"]},
    }
    assert sub.stats.retried == len(want["fail_once"]) + len(want["fail_always"])
    assert adapter.broker.stats.acked == len(handled)  # acked once each, only when handled


# -- ordering keys -----------------------------------------------------------------------------


@_examples
@given(
    keys=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=40),
    fail=st.sets(st.integers(0, 39), max_size=6),
    seed=st.integers(0, 2**16),
)
def test_per_key_order_holds_across_batches_and_retries(
    keys: list[str], fail: set[int], seed: int
) -> None:
    asyncio.run(_ordered(keys, fail, seed))


async def _ordered(keys: list[str], fail: set[int], seed: int) -> None:
    rng = random.Random(seed)
    pauses = [rng.randrange(4) for _ in keys]  # how often each handler yields to the loop
    failed: set[int] = set()
    order: dict[str, list[int]] = {}

    async def handler(event: Event[int]) -> None:
        assert event.data is not None
        i = event.data
        for _ in range(pauses[i]):
            await asyncio.sleep(0)
        if i in fail and i not in failed:
            failed.add(i)
            raise RuntimeError("once")
        order.setdefault(keys[i], []).append(i)

    async with EventBus(MemoryAdapter(_name()), retry=_FAST_RETRY) as bus:
        await bus.subscribe(TYPE, handler, group="g", max_in_flight=8, ordered=True)
        await bus.publish_many(_event(i, k) for i, k in enumerate(keys))
        await wait_until(lambda: sum(map(len, order.values())) == len(keys), what="all handled")

    for key, got in order.items():
        assert got == [i for i, k in enumerate(keys) if k == key], f"order of key {key!r}"


# -- max_in_flight -----------------------------------------------------------------------------


@pytest.mark.parametrize("max_in_flight", [1, 3, 16])
async def test_max_in_flight_bounds_running_handlers_and_leased_messages(
    max_in_flight: int,
) -> None:
    adapter = MemoryAdapter(_name())
    running = peak_running = peak_leased = done = 0
    all_busy = asyncio.Event()  # the first handlers wait until max_in_flight of them run

    async def handler(event: Event[int]) -> None:
        nonlocal running, peak_running, peak_leased, done
        running += 1
        peak_running = max(peak_running, running)
        peak_leased = max(peak_leased, _leased(adapter, "g"))
        if running == max_in_flight:
            all_busy.set()
        await all_busy.wait()
        for _ in range(3):
            await asyncio.sleep(0)
        running -= 1
        done += 1

    async with EventBus(adapter) as bus:
        await bus.subscribe(TYPE, handler, group="g", max_in_flight=max_in_flight)
        await bus.publish_many(_event(i) for i in range(200))
        await wait_until(lambda: done == 200, what="200 handled")
    assert peak_running == max_in_flight  # never more, and batches do not serialise handlers
    assert peak_leased <= max_in_flight  # the pump leases no more than the bus can take


async def test_deliver_many_gets_lists_no_longer_than_the_room_it_returned() -> None:
    adapter = MemoryAdapter()
    await adapter.connect()
    sizes: list[int] = []
    got: list[Delivery] = []
    room = iter([2, 1, 3, 5, 5, 5, 5, 5])

    async def deliver_many(deliveries: Sequence[Delivery]) -> int:
        sizes.append(len(deliveries))
        got.extend(deliveries)
        subscription.ack_many(deliveries)
        return next(room)

    subscription = await adapter.subscribe_batches(
        SubscriptionSpec(TYPE, group="g", max_in_flight=4), deliver_many
    )
    await adapter.publish(TYPE, [_msg(i) for i in range(12)])
    await wait_until(lambda: len(got) == 12, what="12 delivered")
    await adapter.close()
    assert sizes == [4, 2, 1, 3, 2]  # 4 = max_in_flight first, then what each call returned
    assert [d.message.body for d in got] == [_msg(i).body for i in range(12)]
    assert adapter.broker.depth(TYPE, "g") == 0 and adapter.broker.stats.acked == 12


def _msg(i: int) -> Message:
    return Message({"ce-id": f"m{i}"}, f"{i}".encode())


# -- closing and pausing -----------------------------------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stop_after=st.integers(1, 150), max_in_flight=st.integers(1, 32))
def test_closing_mid_batch_loses_nothing(stop_after: int, max_in_flight: int) -> None:
    asyncio.run(_close_mid_batch(stop_after, max_in_flight))


async def _close_mid_batch(stop_after: int, max_in_flight: int) -> None:
    name, n = _name(), 200
    seen: Counter[int] = Counter()
    closing: list[asyncio.Task[None]] = []
    first = EventBus(MemoryAdapter(name))

    async def handler(event: Event[int]) -> None:
        assert event.data is not None
        await asyncio.sleep(0)
        seen[event.data] += 1
        if sum(seen.values()) == stop_after:
            closing.append(asyncio.create_task(first.close()))

    async with first:
        await first.subscribe(TYPE, handler, group="g", max_in_flight=max_in_flight)
        await first.publish_many(_event(i) for i in range(n))
        await wait_until(lambda: bool(closing), what="the close to start")
        await closing[0]
    handled_first = sum(seen.values())
    assert handled_first >= stop_after
    adapter = MemoryAdapter(name)
    async with EventBus(adapter) as second:
        await second.subscribe(TYPE, handler, group="g")
        await wait_until(lambda: sum(seen.values()) >= n, what="the rest handled")
        await wait_until(lambda: adapter.broker.depth(TYPE, "g") == 0, what="all acked")
    assert seen == Counter(range(n)), "a message was lost or handled twice"


async def test_a_paused_subscription_takes_no_new_batch_and_resumes_without_loss() -> None:
    adapter = MemoryAdapter(_name())
    got: list[int] = []
    max_in_flight, n = 8, 100

    async def handler(event: Event[int]) -> None:
        assert event.data is not None
        got.append(event.data)
        await asyncio.sleep(0)

    async with EventBus(adapter) as bus:
        sub = await bus.subscribe(TYPE, handler, group="g", max_in_flight=max_in_flight)
        await bus.publish_many(_event(i) for i in range(10))
        await wait_until(lambda: len(got) == 10 and sub.in_flight == 0, what="first ten")
        sub.pause()  # the pool has room: only the pause keeps the next list out
        await bus.publish_many(_event(i) for i in range(10, n))
        for _ in range(50):  # many loop turns: a paused subscription must not move
            await asyncio.sleep(0)
        assert len(got) == 10, "a paused subscription took messages"
        assert _leased(adapter, "g") <= max_in_flight  # at most one list waits for the resume
        sub.resume()
        await wait_until(lambda: len(got) == n, what="the rest after resume")
    assert sorted(got) == list(range(n))


async def test_closing_while_a_list_waits_for_the_resume_gives_it_back() -> None:
    name, n = _name(), 50
    seen: Counter[int] = Counter()

    async def handler(event: Event[int]) -> None:
        assert event.data is not None
        seen[event.data] += 1

    first_adapter = MemoryAdapter(name)
    async with EventBus(first_adapter) as first:
        sub = await first.subscribe(TYPE, handler, group="g", max_in_flight=4)
        await first.publish_many(_event(i) for i in range(5))
        await wait_until(lambda: len(seen) == 5 and sub.in_flight == 0, what="first five")
        sub.pause()
        await first.publish_many(_event(i) for i in range(5, n))
        await wait_until(lambda: _leased(first_adapter, "g") > 0, what="a list handed over")
    assert sum(seen.values()) == 5  # closed while paused: the waiting list was not handled
    adapter = MemoryAdapter(name)
    async with EventBus(adapter) as second:
        await second.subscribe(TYPE, handler, group="g")
        await wait_until(lambda: sum(seen.values()) >= n, what="the rest handled")
        await wait_until(lambda: adapter.broker.depth(TYPE, "g") == 0, what="all acked")
    assert seen == Counter(range(n)), "a message was lost or handled twice"
