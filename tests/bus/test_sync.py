"""The blocking facade keeps the async bus's semantics."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
import time
from typing import Any

import pytest

from eventbus import BusClosedError, Event, RetryPolicy, SyncEventBus


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_sync_publish_subscribe_with_retry_and_dead_letter(memory_url: str) -> None:
    got: list[int] = []
    dead: list[Event[Any]] = []
    lock = threading.Lock()
    with SyncEventBus(memory_url, retry=RetryPolicy(max_attempts=2, initial_delay=0.01)) as bus:

        @bus.subscribe("sync.num", group="g")
        def handle(event: Event[int]) -> None:
            assert event.data is not None
            if event.data < 0:
                raise ValueError("negative")
            with lock:
                got.append(event.data)

        bus.subscribe(
            ">", dead.append, channel="sync.num.dlq", group="dlq", dead_letter_channel=False
        )
        bus.publish_many(Event(type="sync.num", source="/t", data=i) for i in (1, 2, -3))
        bus.publish(Event(type="sync.num", source="/t", data=4))
        wait_for(lambda: len(got) == 3 and len(dead) == 1)
    assert sorted(got) == [1, 2, 4]
    assert dead[0].data == -3
    assert dead[0].extensions["deadlettererrortype"] == "ValueError"


def test_sync_bus_refuses_use_when_closed(memory_url: str) -> None:
    bus = SyncEventBus(memory_url)
    with pytest.raises(BusClosedError):
        bus.publish(Event(type="a.b", source="/t"))
    bus.open()
    assert bus.close()
    with pytest.raises(BusClosedError):
        bus.publish(Event(type="a.b", source="/t"))


_ASYNC_HANDLER_PUBLISHES = """
import threading, time
from eventbus import Event, EventLoopError, RetryPolicy, SyncEventBus

errors, forwarded = [], []
with SyncEventBus("memory://", retry=RetryPolicy.never()) as bus:

    async def handler(event):
        try:
            bus.publish(Event(type="sync.out", source="/t"))
        except EventLoopError as exc:
            errors.append(str(exc))
            await bus.bus.publish(Event(type="sync.out", source="/t", subject="async"))

    bus.subscribe("sync.in", handler)
    bus.subscribe("sync.out", lambda event: forwarded.append(event.subject))
    bus.publish(Event(type="sync.in", source="/t"))
    deadline = time.monotonic() + 10
    while not (errors and forwarded) and time.monotonic() < deadline:
        time.sleep(0.01)
print(repr((errors, forwarded)))
"""


def test_blocking_publish_from_an_async_handler_raises_instead_of_hanging() -> None:
    """An ``async def`` handler runs on the bus's loop: a blocking publish() there would wait
    for itself forever. It must raise EventLoopError, and the async bus stays usable from the
    handler. Run in a child process with a timeout, so a regression fails instead of hanging."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _ASYNC_HANDLER_PUBLISHES],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("SyncEventBus.publish() from an async handler hung (deadlock)")
    assert done.returncode == 0, done.stderr
    errors, forwarded = ast.literal_eval(done.stdout.strip().splitlines()[-1])
    assert forwarded == ["async"]
    assert len(errors) == 1 and "own event loop" in errors[0]
