"""Dead-letter tooling and ``eventbus groups`` on a real JetStream server (issue 10, items 1,
2, 3 and 7): list is a read that leaves no trace, replay is a move that refuses a target the
interest retention would drop, read-only commands create no stream or consumer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nats
import pytest
from eventbus_nats._names import consumer_name
from nats_launcher import NatsServer

from eventbus.testing._dlq_checks import DeadLetterToolingChecks, cli


async def _state(server: NatsServer) -> dict[str, Any]:
    """Every stream with its message count and its consumers."""
    nc = await nats.connect(server.url())
    try:
        js = nc.jetstream()
        found: dict[str, Any] = {}
        for info in await js.streams_info():
            consumers = await js.consumers_info(info.config.name)
            found[info.config.name] = (info.state.messages, sorted(c.name for c in consumers))
        return found
    finally:
        await nc.close()


def state(server: NatsServer) -> dict[str, Any]:
    return asyncio.run(_state(server))


@pytest.fixture
def checks(nats_server: NatsServer) -> DeadLetterToolingChecks:
    return DeadLetterToolingChecks(nats_server.url(), dead_letters=300)


def test_list_is_a_read_and_replay_moves_without_loss(
    checks: DeadLetterToolingChecks, nats_server: NatsServer
) -> None:
    checks.fill()
    stream = f"EVENTBUS_{checks.root}"
    dlq = f"{checks.channel}.dlq"
    assert checks.check_list_is_a_read() == [300, 300, 300]
    before = state(nats_server)

    result = checks.replay("--limit", "100", "--to", checks.target)
    assert result.code == 0, result.err
    assert "replayed 100, skipped 0" in result.err
    assert checks.check_list_is_a_read() == [200, 200, 200]
    # Moved: 100 wait for the audit group, 200 dead letters stay; nothing is lost or doubled.
    groups = {(g.channel, g.group): g.pending for g in checks.groups()}
    assert groups[(checks.target, "audit")] == 100
    assert groups[(dlq, "dlq")] == 200
    assert checks.browse_count(checks.target, "audit") == 100
    assert state(nats_server)[stream][0] == 300  # 200 dead letters + 100 replayed
    assert state(nats_server)[stream][1] == before[stream][1]  # listing made no consumer

    again = checks.replay("--to", checks.target)  # the rest: all of them, in one move
    assert again.code == 0, again.err
    assert checks.list_count() == 0
    assert checks.browse_count(checks.target, "audit") == 300


def test_replay_refuses_a_target_without_a_consumer(
    checks: DeadLetterToolingChecks, nats_server: NatsServer
) -> None:
    checks.fill()
    result = checks.replay("--limit", "10", "--to", checks.nowhere)
    assert result.code == 2
    assert f"refusing to replay to {checks.nowhere!r}" in result.err
    assert "interest retention and no durable consumer" in result.err
    assert checks.check_list_is_a_read() == [300, 300, 300]  # nothing was taken or lost


def test_read_only_commands_create_no_stream_or_consumer(
    checks: DeadLetterToolingChecks, nats_server: NatsServer
) -> None:
    checks.fill()
    before = state(nats_server)
    listed = cli("dlq", "list", checks.url, checks.typo)
    assert listed.code == 2
    assert f"no JetStream stream captures '{checks.typo}.dlq'" in listed.err
    assert cli("dlq", "show", checks.url, checks.typo).code == 2
    assert cli("dlq", "replay", checks.url, checks.typo).code == 2
    assert cli("groups", "list", checks.url, checks.typo).code == 0
    # A channel whose stream exists but that has no dead-letter group: named, not created.
    missing = cli("dlq", "list", checks.url, checks.nowhere)
    assert missing.code == 2
    assert f"no consumer group 'dlq' on '{checks.nowhere}.dlq'" in missing.err
    assert state(nats_server) == before
    assert f"EVENTBUS_typo{checks.tag}" not in state(nats_server)


def test_groups_list_and_delete(checks: DeadLetterToolingChecks, nats_server: NatsServer) -> None:
    checks.fill()
    result = cli("groups", "list", checks.url, "--json")
    assert result.code == 0, result.err
    rows = {(r["channel"], r["group"]): r for r in map(json.loads, result.out.splitlines())}
    assert rows[(checks.channel, "worker")]["pending"] == 0
    assert rows[(f"{checks.channel}.dlq", "dlq")]["pending"] == 300
    stream = f"EVENTBUS_{checks.root}"
    audit = consumer_name("audit", checks.target)
    assert rows[(checks.target, "audit")]["resource"] == f"{stream}/{audit}"

    assert cli("groups", "delete", checks.url, checks.target, "audit").code == 0
    assert audit not in state(nats_server)[stream][1]
    assert cli("groups", "list", checks.url, checks.target).out == ""
    again = cli("groups", "delete", checks.url, checks.target, "audit")
    assert again.code == 2 and "no consumer group 'audit'" in again.err


def test_tail_with_a_group_says_it_joins_a_durable_group(
    checks: DeadLetterToolingChecks,
) -> None:
    result = checks.tail_with_group("watchers")
    assert result.code == 1
    assert "joining the durable consumer group 'watchers'" in result.err
    assert [g.group for g in checks.groups(f"{checks.root}.tailed")] == ["watchers"]
    assert cli("groups", "delete", checks.url, f"{checks.root}.tailed", "watchers").code == 0
    assert checks.groups(f"{checks.root}.tailed") == []


def test_structured_garbage_keeps_its_reason(checks: DeadLetterToolingChecks) -> None:
    result = checks.structured_garbage()
    assert result.code == 0, result.err
    assert result.selected == 1
    assert "junk-1" in result.out and "decode-error" in result.out


def test_tail_with_a_queue_group_on_core_nats_says_it_is_not_durable(
    nats_server: NatsServer,
) -> None:
    checks = DeadLetterToolingChecks(nats_server.url("mode=core"))
    result = checks.tail_with_group("watchers")
    assert result.code == 1
    assert "joining the consumer group 'watchers'" in result.err
    assert "not durable on this broker" in result.err
    # Core NATS cannot tell whether a target keeps events: replay refuses rather than risk it.
    refused = cli("dlq", "replay", checks.url, checks.channel, "--to", checks.target)
    assert refused.code == 2 and "cannot provide group-admin" in refused.err
