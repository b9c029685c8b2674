"""``eventbus publish servicebus://...`` and ``eventbus tail servicebus://...`` against the broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

from sb_broker import ServiceBusTestBroker
from sb_helpers import sb_url


def eventbus(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventbus", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_publish_then_tail_through_the_cli(sb_broker: ServiceBusTestBroker) -> None:
    url = sb_url(sb_broker)
    event_type = f"cli.t{uuid.uuid4().hex[:8]}.said"
    options = ["--group", "cli", "--count", "2", "--timeout", "30"]
    tail = subprocess.Popen(
        [sys.executable, "-m", "eventbus", "tail", url, event_type, *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while "cli" not in sb_broker.subscriptions(event_type):  # tail has subscribed
            assert tail.poll() is None, tail.communicate()[1]
            assert time.monotonic() < deadline, "tail did not subscribe"
            time.sleep(0.1)
        env = {**os.environ, "SB_CONNECTION": sb_broker.connection_string}
        ids = []
        for n, mode, target in (
            (1, [], url),
            (2, ["--structured"], "servicebus://?connection_string_env=SB_CONNECTION"),
        ):
            result = eventbus(
                "publish", target, "--type", event_type, "--source", "/cli", "--data",
                json.dumps({"n": n}), *mode, env=env,
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
    assert sb_broker.namespace.key not in out + err


def test_publish_with_a_wrong_key_exits_1_without_the_key(sb_broker: ServiceBusTestBroker) -> None:
    url = sb_url(sb_broker).replace(
        sb_broker.namespace.key.replace("=", "%3D"), "c2VjcmV0LWtleQ%3D%3D"
    )
    assert "c2VjcmV0LWtleQ" in url
    result = eventbus("publish", url + "&retry_total=0", "--type", "x.y", "--source", "/s")
    assert result.returncode == 1, result.stderr
    assert "127.0.0.1" in result.stderr
    assert "c2VjcmV0LWtleQ" not in result.stderr + result.stdout
