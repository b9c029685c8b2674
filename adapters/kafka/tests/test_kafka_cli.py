"""``eventbus publish kafka://...`` and ``eventbus tail kafka://...`` against the real broker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

from confluent_kafka.admin import AdminClient
from kafka_launcher import KafkaServer


def eventbus(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventbus", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _has_member(server: KafkaServer, group: str) -> bool:
    admin = AdminClient({"bootstrap.servers": server.bootstrap})
    (future,) = admin.describe_consumer_groups([group]).values()
    try:
        return bool(future.result(timeout=10).members)
    except Exception:
        return False


def test_publish_then_tail_through_the_cli(kafka_server: KafkaServer) -> None:
    url = kafka_server.url()
    event_type = f"cli.t{uuid.uuid4().hex[:8]}.said"
    options = ["--group", "cli", "--count", "2", "--timeout", "60"]
    tail = subprocess.Popen(
        [sys.executable, "-m", "eventbus", "tail", url, event_type, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60  # tail listens once it is a member of its group
        while not _has_member(kafka_server, f"cli.{event_type}"):
            assert tail.poll() is None, tail.communicate()[1]
            assert time.monotonic() < deadline, "tail did not join its group"
            time.sleep(0.2)
        ids = []
        for n, mode in ((1, []), (2, ["--structured"])):
            result = eventbus(
                "publish", url, "--type", event_type, "--source", "/cli", "--data",
                json.dumps({"n": n}), "--extension", "partitionkey=k", *mode,
            )  # fmt: skip
            assert result.returncode == 0, result.stderr
            ids.append(result.stdout.strip())
        out, err = tail.communicate(timeout=60)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.communicate()
    assert tail.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == ids
    assert [line["data"] for line in lines] == [{"n": 1}, {"n": 2}]


def test_publish_to_an_unreachable_broker_exits_1() -> None:
    result = eventbus(
        "publish", "kafka://alice:hunter2@127.0.0.1:1?connect_timeout=1", "--type", "x.y",
        "--source", "/s",
    )  # fmt: skip
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
