"""Dead-letter tooling, ``eventbus groups`` and ``publish``/``tail`` on moto's SNS/SQS: list is
a read that gives everything back, replay is a move that refuses a topic without a group queue,
read-only commands create nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from eventbus_aws import SqsAdapter, group_queue_name
from moto_launcher import MotoServer

from eventbus import Event, EventBus, Router
from eventbus.testing._dlq_checks import DeadLetterToolingChecks, cli

DEAD = 60
# Replay takes dead letters by receiving them until none came for --idle seconds; one moto
# ReceiveMessage can take over a second on a loaded machine (docs/adapters/aws.md), so the
# checks' 0.5 s is raised (the last --idle given wins).
IDLE = ("--idle", "5")


@pytest.fixture
def checks(moto: MotoServer) -> DeadLetterToolingChecks:
    # one poller per subscription: moto marks messages received without a lock, so concurrent
    # polls on one queue can both get a message (see docs/adapters/aws.md)
    return DeadLetterToolingChecks(moto.url(wait_time=1, pollers=1), dead_letters=DEAD)


async def _names(url: str) -> tuple[set[str], set[str]]:
    """Every topic ARN and queue URL on the server."""
    adapter = SqsAdapter.from_url(url)
    await adapter.connect()
    try:
        topics = await adapter.clients.sns.list_topics()
        queues = await adapter.clients.sqs.list_queues(MaxResults=1000)
        return (
            {t["TopicArn"] for t in topics.get("Topics", [])},
            set(queues.get("QueueUrls", [])),
        )
    finally:
        await adapter.close()


def test_list_is_a_read_and_replay_moves_without_loss(checks: DeadLetterToolingChecks) -> None:
    checks.fill()
    assert checks.check_list_is_a_read() == [DEAD, DEAD, DEAD]
    result = checks.replay(*IDLE, "--limit", "20", "--to", checks.target)
    assert result.code == 0, result.err
    assert "replayed 20, skipped 0" in result.err
    assert checks.check_list_is_a_read() == [DEAD - 20] * 3
    assert checks.browse_count(checks.target, "audit") == 20  # moved: nothing lost, no copy


def test_replay_refuses_a_topic_without_a_group_and_reads_create_nothing(
    checks: DeadLetterToolingChecks,
) -> None:
    checks.fill()

    async def publish_once() -> None:  # the topic exists, but no group queue reads it
        async with EventBus(checks.url, router=Router({"x.y": checks.nowhere})) as bus:
            await bus.publish(Event(type="x.y", source="/t"))

    asyncio.run(publish_once())
    before = asyncio.run(_names(checks.url))
    refused = checks.replay(*IDLE, "--limit", "10", "--to", checks.nowhere)
    assert refused.code == 2
    assert f"refusing to replay to {checks.nowhere!r}" in refused.err
    missing = checks.replay(*IDLE, "--limit", "10", "--to", f"{checks.root}.never")
    assert missing.code == 2 and "does not exist" in missing.err
    listed = cli("dlq", "list", checks.url, checks.typo)
    assert listed.code == 2
    assert f"no consumer group 'dlq' on '{checks.typo}.dlq'" in listed.err
    assert cli("groups", "list", checks.url, checks.typo).code == 0
    assert asyncio.run(_names(checks.url)) == before
    assert checks.check_list_is_a_read() == [DEAD, DEAD, DEAD]


def test_groups_list_and_delete(checks: DeadLetterToolingChecks) -> None:
    checks.fill()
    result = cli("groups", "list", checks.url, "--json")
    assert result.code == 0, result.err
    rows = {
        (r["channel"], r["group"]): r
        for r in map(json.loads, result.out.splitlines())
        if r["channel"].startswith(checks.root)
    }
    assert set(rows) == {
        (checks.channel, "worker"),
        (f"{checks.channel}.dlq", "dlq"),
        (checks.target, "audit"),
        (f"{checks.target}.dlq", "dlq"),
    }  # fan-out subscribers' own queues are not groups
    assert rows[(checks.target, "audit")]["resource"] == group_queue_name(checks.target, "audit")
    assert rows[(f"{checks.channel}.dlq", "dlq")]["pending"] == DEAD

    assert cli("groups", "delete", checks.url, checks.target, "audit").code == 0
    assert cli("groups", "list", checks.url, checks.target).out == ""
    assert checks.adapter_call("retention_problem", checks.target) is not None
    again = cli("groups", "delete", checks.url, checks.target, "audit")
    assert again.code == 2 and "no consumer group 'audit'" in again.err


def test_structured_garbage_keeps_its_reason(checks: DeadLetterToolingChecks) -> None:
    result = checks.structured_garbage()
    assert result.code == 0, result.err
    assert result.selected == 1
    assert "junk-1" in result.out and "decode-error" in result.out


def test_publish_then_tail_through_the_cli(moto: MotoServer) -> None:
    url = moto.url(wait_time=1)
    event_type = f"cli.t{uuid.uuid4().hex[:8]}.said"
    options = ("--group", "cli", "--count", "2", "--timeout", "30")
    tail = subprocess.Popen(
        [sys.executable, "-m", "eventbus", "tail", url, event_type, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 30  # tail listens once its group exists
        while not any(g.group == "cli" for g in _groups(url, event_type)):
            assert tail.poll() is None, tail.communicate()[1]
            assert time.monotonic() < deadline, "tail did not subscribe"
            time.sleep(0.2)
        ids = []
        for n, mode in ((1, []), (2, ["--structured"])):
            result = subprocess.run(
                [sys.executable, "-m", "eventbus", "publish", url, "--type", event_type,
                 "--source", "/cli", "--data", json.dumps({"n": n}), *mode],
                capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            ids.append(result.stdout.strip())
        out, err = tail.communicate(timeout=30)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.communicate()
    assert tail.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ids
    assert [line["data"] for line in lines] == [{"n": 1}, {"n": 2}]


def _groups(url: str, channel: str) -> list[object]:
    async def call() -> list[object]:
        adapter = SqsAdapter.from_url(url)
        await adapter.connect()
        try:
            return list(await adapter.list_groups(channel))
        finally:
            await adapter.close()

    return asyncio.run(call())


def test_publish_to_an_unreachable_endpoint_exits_1() -> None:
    url = "sqs://us-east-1?endpoint=http://127.0.0.1:1&timeout=1"
    result = subprocess.run(
        [sys.executable, "-m", "eventbus", "publish", url, "--type", "x.y", "--source", "/s"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "sekrit-x"},
    )  # fmt: skip
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr and "sekrit-x" not in result.stderr
