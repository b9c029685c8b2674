"""Dead-letter tooling on the in-memory broker: list is a read, replay is a move, read-only
commands create nothing, groups can be listed and deleted, structured garbage keeps its reason
(the same scenarios run on NATS, Pub/Sub and Service Bus in their adapter tests)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from eventbus import (
    DEAD_LETTER_GROUP,
    DeadLetterQueue,
    Event,
    EventBus,
    Message,
    PublishError,
    ReplayResult,
    RetryPolicy,
    Router,
)
from eventbus._bus import _dead_letters
from eventbus._memory import MemoryAdapter
from eventbus._memory._broker import named_broker
from eventbus.testing import run, wait_until
from eventbus.testing._dlq_checks import DeadLetterToolingChecks, cli


@pytest.fixture
def checks() -> DeadLetterToolingChecks:
    return DeadLetterToolingChecks(f"memory://dlqt-{uuid.uuid4().hex[:8]}", dead_letters=300)


def _name(checks: DeadLetterToolingChecks) -> str:
    return checks.url.removeprefix("memory://")


def test_list_is_a_read_and_replay_moves_without_loss(checks: DeadLetterToolingChecks) -> None:
    checks.fill()
    broker = named_broker(_name(checks))
    assert checks.check_list_is_a_read() == [300, 300, 300]
    assert broker.depth(f"{checks.channel}.dlq", DEAD_LETTER_GROUP) == 300
    assert broker.stats.delivered == 300  # the lists delivered nothing (the worker's 300 only)

    result = checks.replay("--limit", "100", "--to", checks.target)
    assert result.code == 0, result.err
    assert "replayed 100, skipped 0" in result.err
    assert checks.check_list_is_a_read() == [200, 200, 200]
    assert checks.browse_count(checks.target, "audit") == 100  # moved, not copied, not lost
    replayed = [m.headers["ce-id"] for m in broker.peek(checks.target, "audit")]
    assert replayed == [f"e{i:05d}" for i in range(100)]  # the oldest, in order
    headers = broker.peek(checks.target, "audit")[0].headers
    assert not any(k.startswith("ce-deadletter") for k in headers)


def test_replay_refuses_a_target_that_would_drop_the_events(
    checks: DeadLetterToolingChecks,
) -> None:
    checks.fill()
    result = checks.replay("--limit", "10", "--to", checks.nowhere)
    assert result.code == 2
    assert f"refusing to replay to {checks.nowhere!r}" in result.err
    assert "no consumer group subscribes" in result.err
    assert checks.list_count() == 300  # nothing was taken


def test_read_only_commands_create_nothing(checks: DeadLetterToolingChecks) -> None:
    checks.fill()
    before = checks.groups()
    result = cli("dlq", "list", checks.url, checks.typo)
    assert result.code == 2
    assert f"no consumer group 'dlq' on '{checks.typo}.dlq'" in result.err
    result = cli("dlq", "replay", checks.url, checks.typo)
    assert result.code == 2
    assert checks.groups() == before


def test_groups_list_and_delete(checks: DeadLetterToolingChecks) -> None:
    checks.fill()
    result = cli("groups", "list", checks.url, "--json")
    assert result.code == 0, result.err
    rows = [json.loads(line) for line in result.out.splitlines()]
    found = {(r["channel"], r["group"]): r["pending"] for r in rows}
    assert found[(checks.channel, "worker")] == 0
    assert found[(f"{checks.channel}.dlq", "dlq")] == 300
    assert found[(checks.target, "audit")] == 0
    only = cli("groups", "list", checks.url, checks.target)
    assert only.out.split()[:3] == [checks.target, "audit", "0"]

    assert cli("groups", "delete", checks.url, checks.target, "audit").code == 0
    assert cli("groups", "list", checks.url, checks.target).out == ""
    missing = cli("groups", "delete", checks.url, checks.target, "audit")
    assert missing.code == 2 and "no consumer group 'audit'" in missing.err


def test_tail_with_a_group_says_it_joins_a_durable_group(checks: DeadLetterToolingChecks) -> None:
    result = checks.tail_with_group("watchers")
    assert result.code == 1  # nothing came within --timeout
    assert "joining the durable consumer group 'watchers'" in result.err
    assert f"eventbus groups delete URL {checks.root}.tailed watchers" in result.err
    assert [g.group for g in checks.groups(f"{checks.root}.tailed")] == ["watchers"]


def test_structured_garbage_keeps_its_reason(checks: DeadLetterToolingChecks) -> None:
    result = checks.structured_garbage()
    assert result.code == 0, result.err
    assert result.selected == 1
    assert "junk-1" in result.out and "decode-error" in result.out


def test_a_dead_letter_whose_replay_is_not_stored_stays(checks: DeadLetterToolingChecks) -> None:
    """Settle only after the target stored it: a refused publish leaves every dead letter."""
    checks.dead_letters = 5
    checks.fill()

    class RefusingTarget(MemoryAdapter):
        async def publish(self, channel: str, messages: Sequence[Message]) -> None:
            if channel == checks.target:
                raise PublishError(f"publishing to {channel!r}: refused")
            await super().publish(channel, messages)

    async def scenario() -> ReplayResult:
        adapter = RefusingTarget(_name(checks))
        await adapter.connect()
        try:
            return await DeadLetterQueue(adapter, checks.channel).replay(to_channel=checks.target)
        finally:
            await adapter.close()

    result = run(scenario())
    assert result.replayed == 0
    assert result.failed is not None and "refused" in result.failed
    assert checks.list_count() == 5
    assert checks.browse_count(checks.target, "audit") == 0


# -- a replay is never taken for a duplicate of something else ---------------------------------


def _failing_bus(name: str, calls: list[Event[Any]], *, error: str = "poison") -> EventBus:
    bus = EventBus(
        MemoryAdapter(name, max_message_bytes=700),
        router=Router({"dup.order.>": "dup.orders"}),
        retry=RetryPolicy.never(),
    )

    @bus.subscribe("dup.order.>", group="worker")
    async def fail(event: Event[Any]) -> None:
        calls.append(event)
        raise RuntimeError(error)

    return bus


async def _replay(name: str) -> ReplayResult:
    adapter = MemoryAdapter(name)
    await adapter.connect()
    try:
        return await DeadLetterQueue(adapter, "dup.orders").replay()
    finally:
        await adapter.close()


def test_replay_keeps_same_id_dead_letters_of_two_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    """CloudEvents identity is source + id: two producers' events with one id, dead-lettered in
    the same instant, both come back on replay (the broker's dedupe must not take the second
    replay for a re-sent copy of the first)."""
    instant = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
    monkeypatch.setattr(_dead_letters, "utc_now", lambda: instant)
    name = f"dup-{uuid.uuid4().hex[:8]}"
    calls: list[Event[Any]] = []

    async def scenario() -> ReplayResult:
        async with _failing_bus(name, calls) as bus:
            for source in ("/producer-a", "/producer-b"):
                await bus.publish(Event(type="dup.order.placed", source=source, id="same"))
            await wait_until(lambda: len(calls) == 2, what="two failures")
            await wait_until(
                lambda: named_broker(name).depth("dup.orders.dlq", DEAD_LETTER_GROUP) == 2
            )
            result = await _replay(name)
            await wait_until(lambda: len(calls) == 4, what="both replays handled")
            return result

    result = run(scenario())
    assert result.replayed == 2
    assert sorted(e.source for e in calls[2:]) == ["/producer-a", "/producer-b"]


def test_an_event_dead_lettered_again_after_a_replay_can_be_replayed_again() -> None:
    """A replayed event that fails again is dead-lettered again (here in the short form, its
    error text too long for the limit); replaying it a second time must deliver it, not have
    the broker drop it as a duplicate of the first replay and settle it: that would lose it."""
    name = f"dup-{uuid.uuid4().hex[:8]}"
    calls: list[Event[Any]] = []

    async def scenario() -> None:
        async with _failing_bus(name, calls, error="x" * 2000) as bus:
            await bus.publish(Event(type="dup.order.placed", source="/shop", id="again"))
            broker = named_broker(name)
            for handled in (1, 2, 3):
                await wait_until(lambda n=handled: len(calls) == n, what=f"delivery {handled}")
                await wait_until(lambda: broker.depth("dup.orders.dlq", DEAD_LETTER_GROUP) == 1)
                dead = broker.peek("dup.orders.dlq", DEAD_LETTER_GROUP)[0]
                assert "ce-deadlettertime" in dead.headers
                assert len(dead.headers["ce-deadlettererror"]) < 200  # the short form
                assert "ce-deadlettertruncated" not in dead.headers
                if handled < 3:
                    result = await _replay(name)
                    assert result.replayed == 1

    run(scenario())
    assert [e.id for e in calls] == ["again"] * 3
