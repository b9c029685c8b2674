"""Browsing a group's records without a trace, listing and deleting groups, replay targets; and
``eventbus dlq list`` / ``eventbus groups list`` on Kafka."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from typing import Any

import pytest
from eventbus_kafka import KafkaAdapter
from kafka_launcher import KafkaServer

from eventbus import ConfigurationError, Event, EventBus, RetryPolicy
from eventbus.adapter import GroupInfo
from eventbus.testing import run, wait_until


def _name() -> str:
    return f"kg.t{uuid.uuid4().hex[:10]}"


def test_browse_leaves_no_trace_and_groups_are_listed_and_deleted(
    kafka_server: KafkaServer,
) -> None:
    channel = _name()

    async def scenario() -> None:
        # one partition: "oldest first" across partitions is only as fine as record timestamps
        async with EventBus(kafka_server.url("partitions=1")) as bus:
            adapter = bus.adapter
            assert isinstance(adapter, KafkaAdapter)

            async def never(event: Event[Any]) -> None:
                raise AssertionError("not consumed in this test")

            sub = bus.subscribe(channel, never, group="g")
            await sub
            await sub.close()  # the group exists (its offsets start at the end), nobody reads
            sent = [Event(type=channel, source="/kg", data=i) for i in range(3)]
            await bus.publish_many(sent)
            first = await adapter.browse(channel, "g", limit=10)
            again = await adapter.browse(channel, "g", limit=10)
            ids = [m.message.headers["ce_id"] for m in first]
            assert ids == [e.id.encode() for e in sent]  # header values as the record has them
            assert [m.message.headers["ce_id"] for m in again] == ids  # nothing was taken
            assert len(await adapter.browse(channel, "g", limit=2)) == 2
            groups = await adapter.list_groups(channel)
            assert groups == [GroupInfo(channel, "g", 3, f"g.{channel}")]
            assert await adapter.retention_problem(channel) is None
            assert "does not exist" in str(await adapter.retention_problem(_name()))
            with pytest.raises(ConfigurationError, match="no consumer group 'h'"):
                await adapter.browse(channel, "h", limit=1)
            with pytest.raises(ConfigurationError, match="does not exist"):
                await adapter.browse(_name(), "g", limit=1)
            await adapter.delete_group(channel, "g")
            assert await adapter.list_groups(channel) == []
            problem = await adapter.retention_problem(channel)
            assert problem is not None and "no consumer group reads" in problem
            with pytest.raises(ConfigurationError):
                await adapter.delete_group(channel, "g")

    run(scenario())


def test_dlq_list_and_groups_list_through_the_cli(kafka_server: KafkaServer) -> None:
    channel = _name()
    url = kafka_server.url()

    async def dead_letter_one() -> str:
        async with EventBus(url, retry=RetryPolicy(max_attempts=1)) as bus:

            async def poison(event: Event[Any]) -> None:
                raise ValueError("cannot")

            sub = bus.subscribe(channel, poison, group="workers")
            await sub
            event = Event(type=channel, source="/kg", data={"n": 1})
            await bus.publish(event)
            await wait_until(lambda: sub.stats.dead_lettered == 1, timeout=30)
            return event.id

    event_id = run(dead_letter_one())

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "eventbus", *args],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip

    listed = cli("dlq", "list", url, channel, "--json")
    assert listed.returncode == 0, listed.stderr
    (line,) = [json.loads(x)["event"] for x in listed.stdout.splitlines()]
    assert line["id"] == event_id and line["deadletterreason"] == "handler-error"
    assert cli("dlq", "list", url, channel, "--json").stdout == listed.stdout  # still there
    groups = cli("groups", "list", url, channel, "--json")
    assert groups.returncode == 0, groups.stderr
    assert [json.loads(x)["group"] for x in groups.stdout.splitlines()] == ["workers"]
