"""``eventbus publish pubsub://...`` and ``eventbus tail pubsub://...`` against pstest.

The CLI processes find the fake through ``PUBSUB_EMULATOR_HOST``, as every Pub/Sub client does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

from eventbus_pubsub import EMULATOR_ENV, group_subscription_id
from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from pstest_launcher import PstestServer

PROJECT = "cli-project"
TAIL_OPTIONS = ("--group", "cli", "--count", "2", "--timeout", "30")


def environment(host: str) -> dict[str, str]:
    return {**os.environ, EMULATOR_ENV: host}


def eventbus(*args: str, host: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventbus", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=environment(host),
    )


def subscription_exists(host: str, name: str) -> bool:
    previous = os.environ.get(EMULATOR_ENV)
    os.environ[EMULATOR_ENV] = host
    try:
        with pubsub_v1.SubscriberClient() as client:
            client.get_subscription(subscription=f"projects/{PROJECT}/subscriptions/{name}")
    except gexc.NotFound:
        return False
    finally:
        if previous is None:
            os.environ.pop(EMULATOR_ENV, None)
        else:
            os.environ[EMULATOR_ENV] = previous
    return True


def test_publish_then_tail_through_the_cli(pstest: PstestServer) -> None:
    url = f"pubsub://{PROJECT}"
    event_type = f"cli.t{uuid.uuid4().hex[:8]}.said"
    tail = subprocess.Popen(
        [sys.executable, "-m", "eventbus", "tail", url, event_type, *TAIL_OPTIONS],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(pstest.host),
    )
    try:
        deadline = time.monotonic() + 30  # tail listens once its subscription exists
        while not subscription_exists(pstest.host, group_subscription_id(event_type, "cli")):
            assert tail.poll() is None, tail.communicate()[1]
            assert time.monotonic() < deadline, "tail did not subscribe"
            time.sleep(0.1)
        ids = []
        for n, mode in ((1, []), (2, ["--structured"])):
            result = eventbus(
                "publish", url, "--type", event_type, "--source", "/cli",
                "--data", json.dumps({"n": n}), *mode, host=pstest.host,
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


def test_the_cli_lists_the_adapter() -> None:
    result = eventbus("adapters", host="")
    assert result.returncode == 0, result.stderr
    assert "pubsub" in result.stdout


def test_publish_to_an_unreachable_emulator_exits_1() -> None:
    result = eventbus(
        "publish", "pubsub://p?timeout=1", "--type", "x.y.z", "--source", "/s", host="127.0.0.1:1"
    )
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr
