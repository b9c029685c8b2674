"""A consumer process is killed with SIGKILL mid-stream: its unacked messages are redelivered.

Each event id must reach a handler at least once. Duplicate side effects are expected here (the
killed process handled some events it could not ack); the idempotency store of issue 4 is what
will turn them into zero duplicate side effects.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

from nats_launcher import NatsServer

from eventbus import Event, EventBus
from eventbus.testing import run

N = 200
SCRIPT = Path(__file__).with_name("nats_consumer_proc.py")


def _start_consumer(url: str, event_type: str, out: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(SCRIPT), url, event_type, "workers", str(out)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until subscribed (or the process died)
    assert line.strip() == "ready", f"consumer did not start: {line!r}"
    return process


def _handled(out: Path) -> list[tuple[str, int]]:
    if not out.exists():
        return []
    lines = [line.split() for line in out.read_text().splitlines() if line.strip()]
    return [(parts[0], int(parts[1])) for parts in lines if len(parts) == 2]


def _wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


def test_killed_consumer_messages_are_redelivered(nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.url()
    event_type = f"kill.t{uuid.uuid4().hex[:8]}.job"
    out = tmp_path / "handled.txt"
    first = _start_consumer(url, event_type, out)
    second: subprocess.Popen[str] | None = None
    try:
        events = [Event(type=event_type, source="/kill", data=i) for i in range(N)]

        async def publish() -> None:
            async with EventBus(url) as bus:
                await bus.publish_many(events)

        run(publish())
        assert _wait_for(lambda: len(_handled(out)) >= 40, timeout=20), "first consumer stalled"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = len(_handled(out))
        assert killed_at < N, "the first consumer finished before it was killed"

        second = _start_consumer(url, event_type, out)
        ids = {e.id for e in events}
        assert _wait_for(lambda: ids <= {i for i, _ in _handled(out)}, timeout=30), (
            f"missing {len(ids - {i for i, _ in _handled(out)})} event(s) after the kill"
        )
    finally:
        for process in (first, second):
            if process is not None:
                if process.poll() is None:
                    process.kill()
                    process.wait(timeout=10)
                if process.stdout is not None:
                    process.stdout.close()
    handled = _handled(out)
    assert {i for i, _ in handled} == ids
    redelivered = [(i, attempt) for i, attempt in handled if attempt > 1]
    assert redelivered, "messages in flight at the kill must come back with attempt > 1"
    duplicates = sum(n - 1 for n in Counter(i for i, _ in handled).values())
    # Without the idempotency store, only events the killed process handled but could not ack
    # run twice: at most its in-flight window (max_in_flight 8, plus as many prefetched).
    print(
        f"killed after {killed_at} handled; redelivered {len(redelivered)}; duplicates {duplicates}"
    )
    assert duplicates <= 16, f"{duplicates} duplicate side effects"
