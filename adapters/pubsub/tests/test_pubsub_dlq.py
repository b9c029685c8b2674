"""Dead-letter tooling and ``eventbus groups`` on pstest (issue 10, items 1, 2, 3 and 7): list
is a read that gives everything back, replay is a move that refuses a topic without a
subscription, read-only commands create no topic or subscription."""

from __future__ import annotations

import asyncio
import json
import uuid

import grpc
import pytest
from eventbus_pubsub import group_subscription_id
from google.pubsub_v1.services.publisher import PublisherAsyncClient
from google.pubsub_v1.services.publisher.transports import PublisherGrpcAsyncIOTransport
from google.pubsub_v1.services.subscriber import SubscriberAsyncClient
from google.pubsub_v1.services.subscriber.transports import SubscriberGrpcAsyncIOTransport
from pstest_launcher import PstestServer

from eventbus import Event, EventBus, Router
from eventbus.testing._dlq_checks import DeadLetterToolingChecks, cli


async def _resources(host: str, project: str) -> tuple[set[str], set[str]]:
    """Every topic and subscription ID of the project."""
    channel = grpc.aio.insecure_channel(host)
    try:
        publisher = PublisherAsyncClient(transport=PublisherGrpcAsyncIOTransport(channel=channel))
        subscriber = SubscriberAsyncClient(
            transport=SubscriberGrpcAsyncIOTransport(channel=channel)
        )
        topics = {
            t.name.rsplit("/", 1)[-1]
            async for t in await publisher.list_topics(project=f"projects/{project}")
        }
        subscriptions = {
            s.name.rsplit("/", 1)[-1]
            async for s in await subscriber.list_subscriptions(project=f"projects/{project}")
        }
        return topics, subscriptions
    finally:
        await channel.close()


@pytest.fixture
def project() -> str:
    return f"dlq-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def checks(pstest: PstestServer, project: str) -> DeadLetterToolingChecks:
    return DeadLetterToolingChecks(pstest.url(project), dead_letters=300)


def test_list_is_a_read_and_replay_moves_without_loss(checks: DeadLetterToolingChecks) -> None:
    checks.fill()
    assert checks.check_list_is_a_read() == [300, 300, 300]

    result = checks.replay("--limit", "100", "--to", checks.target)
    assert result.code == 0, result.err
    assert "replayed 100, skipped 0" in result.err
    assert checks.check_list_is_a_read() == [200, 200, 200]
    assert checks.browse_count(checks.target, "audit") == 100  # moved: nothing lost, no copy


def test_replay_refuses_a_topic_without_a_subscription(
    checks: DeadLetterToolingChecks, pstest: PstestServer, project: str
) -> None:
    checks.fill()
    asyncio.run(_publish_once(checks))  # the topic exists, but nobody subscribes to it
    result = checks.replay("--limit", "10", "--to", checks.nowhere)
    assert result.code == 2
    assert f"refusing to replay to {checks.nowhere!r}" in result.err
    assert "has no subscription" in result.err
    missing = checks.replay("--limit", "10", "--to", f"{checks.root}.never")
    assert missing.code == 2 and "does not exist" in missing.err
    assert checks.check_list_is_a_read() == [300, 300, 300]


async def _publish_once(checks: DeadLetterToolingChecks) -> None:
    async with EventBus(checks.url, router=Router({"x.y": checks.nowhere})) as bus:
        await bus.publish(Event(type="x.y", source="/t"))


def test_read_only_commands_create_no_topic_or_subscription(
    checks: DeadLetterToolingChecks, pstest: PstestServer, project: str
) -> None:
    checks.fill()
    before = asyncio.run(_resources(pstest.host, project))
    listed = cli("dlq", "list", checks.url, checks.typo)
    assert listed.code == 2
    assert f"no consumer group 'dlq' on '{checks.typo}.dlq'" in listed.err
    assert cli("dlq", "replay", checks.url, checks.typo).code == 2
    assert cli("groups", "list", checks.url, checks.typo).code == 0
    assert asyncio.run(_resources(pstest.host, project)) == before


def test_groups_list_and_delete(
    checks: DeadLetterToolingChecks, pstest: PstestServer, project: str
) -> None:
    checks.fill()
    result = cli("groups", "list", checks.url, "--json")
    assert result.code == 0, result.err
    rows = {(r["channel"], r["group"]): r for r in map(json.loads, result.out.splitlines())}
    assert set(rows) == {
        (checks.channel, "worker"),
        (f"{checks.channel}.dlq", "dlq"),
        (checks.target, "audit"),
        (f"{checks.target}.dlq", "dlq"),
    }  # fan-out subscribers' own subscriptions are not groups
    audit = group_subscription_id(checks.target, "audit")
    assert rows[(checks.target, "audit")]["resource"] == f"projects/{project}/subscriptions/{audit}"

    assert cli("groups", "delete", checks.url, checks.target, "audit").code == 0
    assert audit not in asyncio.run(_resources(pstest.host, project))[1]
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


def test_structured_garbage_keeps_its_reason(checks: DeadLetterToolingChecks) -> None:
    result = checks.structured_garbage()
    assert result.code == 0, result.err
    assert result.selected == 1
    assert "junk-1" in result.out and "decode-error" in result.out
