"""``eventbus publish nats://...`` and ``eventbus tail nats://...`` against a running server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid

import nats
from eventbus_nats._names import consumer_name
from nats_launcher import NatsServer


def eventbus(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventbus", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def _has_consumer(server: NatsServer, stream: str, name: str) -> bool:
    nc = await nats.connect(server.url())
    try:
        await nc.jetstream().consumer_info(stream, name)
    except Exception:
        return False
    finally:
        await nc.close()
    return True


def test_publish_then_tail_through_the_cli(nats_server: NatsServer) -> None:
    url = nats_server.url()
    event_type = f"cli.t{uuid.uuid4().hex[:8]}.said"
    options = ["--group", "cli", "--count", "2", "--timeout", "30"]
    tail = subprocess.Popen(
        [sys.executable, "-m", "eventbus", "tail", url, event_type, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # tail listens once its durable consumer exists on the server
        deadline = time.monotonic() + 20
        name = consumer_name("cli", event_type)
        while not asyncio.run(_has_consumer(nats_server, "EVENTBUS_cli", name)):
            assert tail.poll() is None, tail.communicate()[1]
            assert time.monotonic() < deadline, "tail did not subscribe"
            time.sleep(0.1)
        ids = []
        for n, mode in ((1, []), (2, ["--structured"])):
            result = eventbus(
                "publish", url, "--type", event_type, "--source", "/cli", "--data",
                json.dumps({"n": n}), *mode,
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


def test_publish_to_an_unreachable_server_exits_1(tmp_path: object) -> None:
    result = eventbus(
        "publish", "nats://alice:hunter2@127.0.0.1:1", "--type", "x.y", "--source", "/s"
    )
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
