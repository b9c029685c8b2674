"""Seeded fault injection: each fault is observable, keeps the guarantees, and is reproducible."""

from __future__ import annotations

import time

import pytest
from memory_helpers import Inbox, eventually, msg

from eventbus._adapter._contract import SubscriptionSpec
from eventbus._errors import ConfigurationError
from eventbus._memory import MemoryAdapter, MemoryFaults, MemoryStats
from eventbus._wire._message import Message

KEYS = ("a", "b", "c", "d")


def keyed(count: int) -> list[Message]:
    return [msg(f"{KEYS[n % len(KEYS)]}-{n}", key=KEYS[n % len(KEYS)]) for n in range(count)]


async def run(url: str, messages: list[Message]) -> tuple[list[tuple[str, int]], MemoryStats]:
    """Publish ``messages`` through ``url`` to one group consumer that acks; return what it saw."""
    adapter = MemoryAdapter.from_url(url)
    await adapter.connect()
    inbox = Inbox()
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", messages)
    await eventually(lambda: adapter.broker.depth("c", "g") == 0, within=5)
    await adapter.close()
    seen = [(d.message.body.decode(), d.attempt) for d in inbox.deliveries]
    return seen, adapter.broker.stats


async def test_no_faults_by_default() -> None:
    seen, stats = await run("memory://", keyed(50))
    assert seen == [(m.body.decode(), 1) for m in keyed(50)]
    assert stats.duplicates_injected == stats.reorders_injected == stats.acks_dropped == 0


async def test_duplicate_fault_delivers_some_messages_twice() -> None:
    messages = [msg(str(n)) for n in range(100)]
    seen, stats = await run("memory://?seed=1&duplicate=0.3", messages)
    assert 0 < stats.duplicates_injected < 100
    assert len(seen) == 100 + stats.duplicates_injected
    bodies = [body for body, _ in seen]
    assert sorted(set(bodies), key=int) == [str(n) for n in range(100)]
    assert all(bodies.count(body) <= 2 for body in bodies)
    assert {attempt for _, attempt in seen} == {1}, "a duplicate keeps the attempt"
    assert stats.acked == len(seen)


async def test_duplicate_of_a_keyed_message_keeps_key_order() -> None:
    seen, stats = await run("memory://?seed=3&duplicate=0.5", keyed(80))
    assert stats.duplicates_injected > 0
    for key in KEYS:
        numbers = [int(body.split("-")[1]) for body, _ in seen if body.startswith(f"{key}-")]
        assert numbers == sorted(numbers), key


async def test_a_duplicate_comes_right_after_its_original_within_a_key() -> None:
    adapter = MemoryAdapter.from_url("memory://?seed=1&duplicate=1")
    await adapter.connect()
    inbox = Inbox(ack=False)
    await adapter.subscribe(SubscriptionSpec("c", group="g"), inbox)
    await adapter.publish("c", [msg(str(n), key="k") for n in range(3)])
    for n in range(6):
        await (await inbox.wait_for(n + 1))[n].ack()
    assert inbox.bodies == ["0", "0", "1", "1", "2", "2"]
    assert adapter.broker.stats.duplicates_injected == 3
    assert adapter.broker.depth("c", "g") == 0
    await adapter.close()


async def test_reorder_fault_changes_order_across_keys_but_never_within_a_key() -> None:
    messages = keyed(200)
    seen, stats = await run("memory://?seed=5&reorder=0.5", messages)
    assert stats.reorders_injected > 0
    bodies = [body for body, _ in seen]
    assert sorted(bodies) == sorted(m.body.decode() for m in messages)
    assert bodies != [m.body.decode() for m in messages], "something should be reordered"
    for key in KEYS:
        numbers = [int(body.split("-")[1]) for body in bodies if body.startswith(f"{key}-")]
        assert numbers == sorted(numbers), key


@pytest.mark.parametrize("key", ["k", None])
async def test_reorder_never_swaps_two_messages_of_the_same_key(key: str | None) -> None:
    seen, stats = await run("memory://?seed=5&reorder=1", [msg(str(n), key=key) for n in range(30)])
    assert [body for body, _ in seen] == [str(n) for n in range(30)]
    assert stats.reorders_injected == 0


async def test_reorder_moves_unkeyed_messages_around_keyed_ones() -> None:
    messages = [msg(f"k-{n}", key="k") if n % 2 else msg(f"none-{n}") for n in range(40)]
    seen, stats = await run("memory://?seed=8&reorder=0.5", messages)
    assert stats.reorders_injected > 0
    bodies = [body for body, _ in seen]
    assert bodies != [m.body.decode() for m in messages]
    for prefix in ("k-", "none-"):
        numbers = [int(b.split("-")[1]) for b in bodies if b.startswith(prefix)]
        assert numbers == sorted(numbers), prefix


async def test_crash_before_ack_drops_acks_and_the_message_comes_back() -> None:
    messages = [msg(str(n)) for n in range(100)]
    seen, stats = await run("memory://?seed=2&crash_before_ack=0.3", messages)
    assert stats.acks_dropped > 0
    assert len(seen) == 100 + stats.acks_dropped
    assert stats.acked == 100
    assert stats.redelivered == stats.acks_dropped
    assert max(attempt for _, attempt in seen) >= 2
    for n in range(100):
        attempts = [attempt for body, attempt in seen if body == str(n)]
        assert attempts == list(range(1, len(attempts) + 1)), "each redelivery counts one more"


async def test_slow_fault_holds_deliveries_back() -> None:
    start = time.monotonic()
    seen, stats = await run("memory://?seed=4&slow=0.5&slow_delay=0.01", keyed(20))
    elapsed = time.monotonic() - start
    assert 0 < stats.slow_injected < 20
    assert elapsed >= stats.slow_injected * 0.01
    assert len(seen) == 20


@pytest.mark.parametrize(
    "faults",
    [
        "duplicate=0.3",
        "reorder=0.4",
        "crash_before_ack=0.3",
        "slow=0.3&slow_delay=0.001",
        "duplicate=0.2&reorder=0.2&crash_before_ack=0.2",
    ],
)
async def test_the_same_seed_gives_the_same_run(faults: str) -> None:
    messages = keyed(60)
    first, first_stats = await run(f"memory://?seed=11&{faults}", messages)
    second, second_stats = await run(f"memory://?seed=11&{faults}", messages)
    other, _ = await run(f"memory://?seed=12&{faults}", messages)
    assert first == second
    assert first_stats == second_stats
    if "slow" not in faults:  # slow only changes timing, not what is delivered
        assert other != first


def test_faults_config_is_validated() -> None:
    assert not MemoryFaults().enabled
    assert MemoryFaults(reorder=0.1).enabled
    for bad in (
        {"duplicate": 1.5},
        {"reorder": -0.1},
        {"slow": float("nan")},
        {"slow_delay": -1.0},
        {"crash_before_ack": True},
    ):
        with pytest.raises(ConfigurationError, match=next(iter(bad))):
            MemoryFaults(**bad)
    with pytest.raises(ConfigurationError, match="seed"):
        MemoryFaults(seed="7")  # type: ignore[arg-type]
