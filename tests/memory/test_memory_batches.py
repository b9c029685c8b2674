"""Batches are stored as a whole (issue 14): the same result as publishing one message at a time.

``MemoryBroker._store`` filters a batch for publisher duplicates, then puts what is left into
every matching queue in one step. These tests hold it to the message-at-a-time reference:
the same queue contents, in the same order, and the same counters, for any mix of batches,
repeated dedupe ids (within a batch and across batches), several queues and id-table rotations.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventbus._memory import _broker
from eventbus._memory._broker import MemoryBroker
from eventbus._wire._message import Message

_ids = st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f"]))
_batches = st.lists(st.lists(_ids, min_size=0, max_size=6), min_size=1, max_size=6)


def _broker_with_queues(fanout: int, wildcard: bool) -> MemoryBroker:
    broker = MemoryBroker()
    broker.group_queue("orders.placed", "g")
    for _ in range(fanout):
        broker.fanout_queue("orders.placed")
    if wildcard:
        broker.group_queue("orders.*", "w")
    return broker


def _run(broker: MemoryBroker, batches: list[list[Message]], window: float) -> None:
    for batch in batches:
        assert broker.publish_nowait("orders.placed", batch, window)


def _state(broker: MemoryBroker) -> tuple[list[list[bytes]], dict[str, int]]:
    queues = [[m.body for m in q.messages()] for q in broker._queues]
    stats = broker.stats
    counters = {
        "published": stats.published,
        "deduplicated": stats.deduplicated,
        "unrouted": stats.unrouted,
    }
    return queues, counters


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batches=_batches,
    fanout=st.integers(0, 2),
    wildcard=st.booleans(),
    window=st.sampled_from([0.0, 120.0]),
    per_generation=st.sampled_from([1, 2, 3, 50_000]),
)
def test_a_batch_is_stored_like_its_messages_one_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
    batches: list[list[str | None]],
    fanout: int,
    wildcard: bool,
    window: float,
    per_generation: int,
) -> None:
    monkeypatch.setattr(_broker, "MAX_IDS_PER_GENERATION", per_generation)
    counter = iter(range(10_000))
    messages = [
        [Message({"ce-id": str(i)}, b"%d" % next(counter), dedupe_id=i) for i in batch]
        for batch in batches
    ]
    whole = _broker_with_queues(fanout, wildcard)
    _run(whole, messages, window)
    one_by_one = _broker_with_queues(fanout, wildcard)
    _run(one_by_one, [[m] for batch in messages for m in batch], window)
    assert _state(whole) == _state(one_by_one)


def test_a_batch_with_no_queue_counts_as_unrouted() -> None:
    broker = MemoryBroker()
    batch = [Message({}, b"1", dedupe_id="x"), Message({}, b"2", dedupe_id="x"), Message({}, b"3")]
    assert broker.publish_nowait("nobody.listens", batch, 120.0)
    assert (broker.stats.published, broker.stats.unrouted, broker.stats.deduplicated) == (2, 2, 1)


async def test_a_batch_wakes_one_waiting_consumer_per_message() -> None:
    broker = MemoryBroker()
    queue = broker.group_queue("orders.placed", "g")
    woken: list[int] = []

    async def wait(n: int) -> None:
        await queue.wait_ready()
        woken.append(n)

    waiting = [asyncio.create_task(wait(n)) for n in range(3)]
    await asyncio.sleep(0)  # all three park
    broker.publish_nowait("orders.placed", [Message({}, b"1"), Message({}, b"2")], 0.0)
    await asyncio.sleep(0)
    assert woken == [0, 1]  # two messages: the two longest-waiting consumers, in order
    assert queue.depth == 2
    for task in waiting:
        task.cancel()
    await asyncio.gather(*waiting, return_exceptions=True)


def test_the_id_table_turns_over_within_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    # One id per generation: by the second "a" two generations have passed and "a" is
    # forgotten (a busy channel shortens the window instead of growing the table), batch or not.
    monkeypatch.setattr(_broker, "MAX_IDS_PER_GENERATION", 1)
    broker = MemoryBroker()
    queue = broker.group_queue("orders.placed", "g")
    ids = ["a", "b", "a", "c", "d", "e", "a"]
    batch = [Message({}, b"%d" % i, dedupe_id=d) for i, d in enumerate(ids)]
    assert broker.publish_nowait("orders.placed", batch, 120.0)
    assert [m.body for m in queue.messages()] == [b"0", b"1", b"3", b"4", b"5", b"6"]
    assert (broker.stats.published, broker.stats.deduplicated) == (6, 1)


def test_a_batch_goes_in_at_once_only_where_every_queue_has_room_for_all_of_it() -> None:
    broker = MemoryBroker()
    roomy = broker.group_queue("orders.placed", "roomy", 100)
    tight = broker.group_queue("orders.placed", "tight", 3)
    assert broker.publish_nowait("orders.placed", [Message({}, b"1"), Message({}, b"2")], 0.0)
    two_more = [Message({}, b"3"), Message({}, b"4")]
    assert not broker.publish_nowait("orders.placed", two_more, 0.0)  # tight has room for one
    assert (roomy.depth, tight.depth, broker.stats.published) == (2, 2, 2)  # nothing stored
    assert broker.publish_nowait("orders.placed", two_more[:1], 0.0)
    assert (roomy.depth, tight.depth, broker.stats.published) == (3, 3, 3)
