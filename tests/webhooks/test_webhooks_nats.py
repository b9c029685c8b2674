"""Delivery on NATS JetStream survives a SIGKILLed delivery process: every event still reaches
the endpoint, and duplicates are recognisable by their ``webhook-id``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webhook_receiver import Receiver

from eventbus import Event, EventBus
from eventbus.webhooks import SqliteEndpointStore, Webhooks

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "adapters/nats/tests") not in sys.path:
    sys.path.append(str(ROOT / "adapters/nats/tests"))

from nats_launcher import NatsServer  # noqa: E402

pytestmark = pytest.mark.slow
EVENTS = 20


@pytest.fixture(scope="module")
def nats(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path_factory.mktemp("nats-webhooks")).start()
    try:
        yield server
    finally:
        server.stop()


def start_delivery(nats: NatsServer, store: str, log: Path) -> subprocess.Popen[bytes]:
    stream = log.open("ab")
    command = [sys.executable, "-m", "eventbus", "webhooks", "deliver", "--bus", nats.url()]
    command += ["--store", store, "--allow", "127.0.0.0/8", "--refresh", "0.5"]
    command += ["--ack-wait", "3", "--breaker-threshold", "1000"]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=stream,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stream.close()
    return process


async def wait_ready(process: subprocess.Popen[bytes], log: Path, runs: int) -> None:
    for _ in range(600):
        text = await asyncio.to_thread(log.read_text)
        if text.count("delivering to 1 endpoint") >= runs:
            return
        assert process.poll() is None, text
        await asyncio.sleep(0.05)
    raise AssertionError("the delivery process did not start")


async def test_sigkill_mid_retry_loses_nothing(
    nats: NatsServer, receiver: Receiver, path: str, tmp_path: Path
) -> None:
    store = f"sqlite:///{tmp_path}/hooks.db"
    log = tmp_path / "deliver.log"
    async with Webhooks(SqliteEndpointStore(tmp_path / "hooks.db"), allow=["127.0.0.0/8"]) as hooks:
        await hooks.add(
            receiver.url(path), "com.shop.order.placed", schedule=(0.5,) * 30, timeout=2
        )
    receiver.script(path, default=("status", 503, [], b"not yet"))
    first = start_delivery(nats, store, log)
    second: subprocess.Popen[bytes] | None = None
    try:
        await wait_ready(first, log, 1)
        async with EventBus(nats.url()) as bus:
            sent: list[Event[Any]] = [
                Event(type="com.shop.order.placed", source="tests/shop", data={"n": n})
                for n in range(EVENTS)
            ]
            for event in sent:
                await bus.publish(event)
        # Every event has been tried at least twice (so all are mid-retry), then the process dies.
        for _ in range(1200):
            ids = [r.headers["ce-id"] for r in receiver.posts(path)]
            if all(ids.count(e.id) >= 2 for e in sent):
                break
            await asyncio.sleep(0.05)
        else:
            ids = [r.headers["ce-id"] for r in receiver.posts(path)]
            counts = sorted(ids.count(e.id) for e in sent)
            raise AssertionError(
                f"not every event was retried before the kill: {counts} {log.read_text()[-3000:]}"
            )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        receiver.script(path, default=("status", 200))
        before = len(receiver.posts(path))

        second = start_delivery(nats, store, log)
        await wait_ready(second, log, 2)
        wanted = {e.id for e in sent}
        for _ in range(1200):
            answered = [r for r in receiver.posts(path)[before:] if r.answered]
            if wanted <= {r.headers["ce-id"] for r in answered}:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("not every event reached the endpoint after the restart")
        # One webhook-id per event, the same on every attempt: duplicates are recognisable.
        by_event: dict[str, set[str]] = {}
        for request in receiver.posts(path):
            by_event.setdefault(request.headers["ce-id"], set()).add(request.headers["webhook-id"])
        assert all(len(ids) == 1 for ids in by_event.values())
        assert len({next(iter(ids)) for ids in by_event.values()}) == EVENTS
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(10)
