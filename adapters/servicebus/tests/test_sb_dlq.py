"""Dead-letter tooling and ``eventbus groups`` on the Service Bus test broker (issue 10, items
1, 2, 3 and 7): list is a peek, replay is a move that refuses a topic without a subscription,
read-only commands create no entity.

The broker creates no entity on first use here (as a real namespace): the test provisions what
the scenarios use, as an operator would. The test broker has no administration (HTTP) API, so
the adapter's administration client is a stand-in that reads and changes the broker's namespace.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError
from eventbus_servicebus import _provision
from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url

from eventbus import Event, EventBus, RetryPolicy, Router
from eventbus.testing import run, wait_until
from eventbus.testing._dlq_checks import DeadLetterToolingChecks, cli


class BrokerAdmin:
    """The administration calls the adapter makes, answered from the broker's namespace."""

    def __init__(self, broker: ServiceBusTestBroker) -> None:
        self.ns = broker.namespace

    def _topic(self, name: str) -> Any:
        topic = self.ns.topics.get(name.lower())
        if topic is None:
            raise ResourceNotFoundError(f"topic {name} not found")
        return topic

    def list_topics(self) -> list[Any]:
        with self.ns.lock:
            return [SimpleNamespace(name=t.path) for t in self.ns.topics.values()]

    def list_subscriptions(self, topic: str) -> list[Any]:
        with self.ns.lock:
            found = self._topic(topic).subscriptions.values()
            return [SimpleNamespace(name=s.path.split("/")[-1]) for s in found]

    def get_subscription(self, topic: str, name: str) -> Any:
        with self.ns.lock:
            sub = self._topic(topic).subscriptions.get(name.lower())
            if sub is None:
                raise ResourceNotFoundError(f"subscription {name} not found")
            return SimpleNamespace(name=name)

    def get_subscription_runtime_properties(self, topic: str, name: str) -> Any:
        with self.ns.lock:
            sub = self._topic(topic).subscriptions[name.lower()]
            return SimpleNamespace(active_message_count=sub.ready_count() + sub.locked_count())

    def delete_subscription(self, topic: str, name: str) -> None:
        with self.ns.lock:
            self.ns.delete_subscription(topic, name)

    def close(self) -> None:
        pass


@pytest.fixture
def broker(
    start_broker: Callable[..., ServiceBusTestBroker], monkeypatch: pytest.MonkeyPatch
) -> ServiceBusTestBroker:
    broker = start_broker(auto_create=False, lock_duration=5.0)
    monkeypatch.setattr(_provision, "admin_client", lambda config: BrokerAdmin(broker))
    return broker


@pytest.fixture
def checks(broker: ServiceBusTestBroker) -> DeadLetterToolingChecks:
    checks = DeadLetterToolingChecks(sb_url(broker, sessions=False), dead_letters=100)
    subscriptions = {
        checks.channel: "worker",
        f"{checks.channel}.dlq": "dlq",
        checks.target: "audit",
        f"{checks.target}.dlq": "dlq",
        checks.garbage: "worker",
        f"{checks.garbage}.dlq": "dlq",
        f"{checks.root}.tailed": "watchers",
    }
    for topic, name in subscriptions.items():
        broker.create_topic(topic)
        broker.create_subscription(topic, name)
    broker.create_topic(checks.nowhere)
    return checks


def _topics(broker: ServiceBusTestBroker) -> dict[str, list[str]]:
    with broker.namespace.lock:
        return {
            name: sorted(topic.subscriptions) for name, topic in broker.namespace.topics.items()
        }


def test_list_is_a_peek_and_replay_moves_without_loss(
    checks: DeadLetterToolingChecks, broker: ServiceBusTestBroker
) -> None:
    checks.fill()
    dlq = f"{checks.channel}.dlq/Subscriptions/dlq"
    assert checks.check_list_is_a_read() == [100, 100, 100]
    assert broker.count(dlq)["ready"] == 100  # nothing locked, nothing moved

    result = checks.replay("--limit", "30", "--to", checks.target)
    assert result.code == 0, result.err
    assert "replayed 30, skipped 0" in result.err
    assert checks.check_list_is_a_read() == [70, 70, 70]
    assert broker.count(f"{checks.target}/Subscriptions/audit")["ready"] == 30
    assert broker.count(dlq)["ready"] == 70


def test_replay_refuses_a_topic_without_a_subscription(
    checks: DeadLetterToolingChecks,
) -> None:
    checks.fill()
    result = checks.replay("--limit", "10", "--to", checks.nowhere)
    assert result.code == 2
    assert f"refusing to replay to {checks.nowhere!r}" in result.err
    assert "has no subscription" in result.err
    missing = checks.replay("--limit", "10", "--to", f"{checks.root}.never")
    assert missing.code == 2 and "does not exist" in missing.err
    assert checks.check_list_is_a_read() == [100, 100, 100]


def test_read_only_commands_create_no_entity(
    checks: DeadLetterToolingChecks, broker: ServiceBusTestBroker
) -> None:
    checks.fill()
    before = _topics(broker)
    url = checks.url + "&retry_total=0"  # the test broker answers a missing entity's peek 404
    listed = cli("dlq", "list", url, checks.typo)
    assert listed.code == 2
    assert f"no consumer group 'dlq' on '{checks.typo}.dlq'" in listed.err
    assert cli("dlq", "replay", url, checks.typo).code == 2
    assert cli("groups", "list", url, checks.typo).code == 0
    assert _topics(broker) == before


def test_groups_list_and_delete(
    checks: DeadLetterToolingChecks, broker: ServiceBusTestBroker
) -> None:
    checks.fill()
    result = cli("groups", "list", checks.url, "--json")
    assert result.code == 0, result.err
    rows = {(r["channel"], r["group"]): r for r in map(json.loads, result.out.splitlines())}
    assert rows[(checks.channel, "worker")]["pending"] == 0
    assert rows[(f"{checks.channel}.dlq", "dlq")]["pending"] == 100
    assert rows[(checks.target, "audit")]["resource"] == f"{checks.target}/Subscriptions/audit"

    assert cli("groups", "delete", checks.url, checks.target, "audit").code == 0
    assert "audit" not in _topics(broker)[checks.target]
    assert cli("groups", "list", checks.url, checks.target).out == ""
    again = cli("groups", "delete", checks.url, checks.target, "audit")
    assert again.code == 2 and "no consumer group 'audit'" in again.err


def test_tail_with_a_group_says_it_joins_a_durable_group(
    checks: DeadLetterToolingChecks,
) -> None:
    result = checks.tail_with_group("watchers")
    assert result.code == 1, result.err
    assert "joining the durable consumer group 'watchers'" in result.err


def test_structured_garbage_keeps_its_reason(checks: DeadLetterToolingChecks) -> None:
    result = checks.structured_garbage()
    assert result.code == 0, result.err
    assert result.selected == 1
    assert "junk-1" in result.out and "decode-error" in result.out


def test_an_event_with_a_whole_millisecond_time_is_dead_lettered(
    checks: DeadLetterToolingChecks,
) -> None:
    """Its time goes out as an AMQP timestamp and comes back as int milliseconds, too large
    for the AMQP int the SDK would send it as again: the dead letter must still be stored."""
    checks.dead_letters = 1
    when = datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC)

    async def scenario() -> None:
        async def fail(event: Event[Any]) -> None:
            raise ValueError("no")

        router = Router({f"{checks.root}.order.>": checks.channel})
        async with EventBus(checks.url, router=router, retry=RetryPolicy.never()) as bus:
            sub = await bus.subscribe(f"{checks.root}.order.>", fail, group="worker")
            await bus.publish(Event(type=f"{checks.root}.order.x", source="/t", time=when))
            await wait_until(lambda: sub.stats.dead_lettered == 1, 30, "the dead letter")

    run(scenario(), 60)
    listed = cli("dlq", "show", checks.url, checks.channel)
    assert listed.code == 0, listed.err
    assert json.loads(listed.out)["event"]["time"].startswith("2024-05-01T12:00:00.123")
