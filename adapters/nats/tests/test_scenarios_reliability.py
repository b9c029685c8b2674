"""Reliability scenarios on a real nats-server (JetStream) shared by real consumer processes.

- A consumer killed with SIGKILL mid-stream and restarted, 10,000 events, SQLite idempotency
  store with transactional side effects: every event's side effect recorded exactly once.
- SIGTERM under load: in-flight handlers finish and are acked, nothing is handled (so acked)
  twice, nothing is lost.
- Dead letters on JetStream: listed without being lost, replayed to their channel, by the CLI.
- The outbox relay process killed with SIGKILL mid-stream: the next relay resends from the first
  unmarked row; every event arrives, in order per partition key.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nats_launcher import NatsServer

from eventbus import Event, EventBus, RetryPolicy, SqliteOutbox
from eventbus.testing import run, wait_until

PROC = Path(__file__).with_name("reliability_proc.py")


def _start(mode: str, url: str, event_type: str, target: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(PROC), mode, url, event_type, str(target)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip() == "ready", f"consumer did not start: {line!r}"
    return process


def _wait(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def _stop(*processes: subprocess.Popen[str] | None) -> None:
    for process in processes:
        if process is None:
            continue
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


async def _publish(url: str, events: list[Event[Any]]) -> None:
    async with EventBus(url) as bus:
        for i in range(0, len(events), 1000):
            await bus.publish_many(events[i : i + 1000])


def test_sigkill_mid_stream_side_effects_exactly_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url, n = nats_server.url(), 10_000
    event_type = f"rel.t{uuid.uuid4().hex[:8]}.charge"
    db = tmp_path / "consumer.db"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE effects (event_id TEXT NOT NULL, pid INTEGER NOT NULL)")

    def effects() -> list[tuple[str, int]]:
        with sqlite3.connect(db, timeout=30) as conn:
            return list(conn.execute("SELECT event_id, pid FROM effects"))

    first = second = None
    try:
        first = _start("exactly-once", url, event_type, db)
        events = [Event(type=event_type, source="/rel", data=i) for i in range(n)]
        run(_publish(url, events), timeout=120)
        _wait(lambda: len(effects()) >= 2_000, 60, "the first consumer to get going")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = len(effects())
        assert killed_at < n, "the first consumer finished before it was killed"
        second = _start("exactly-once", url, event_type, db)
        _wait(lambda: len(effects()) >= n, 120, "every event's side effect")
        time.sleep(2.5)  # past the lease and ack wait: a duplicate would have landed by now
        rows = effects()
    finally:
        _stop(first, second)
    counts = Counter(event_id for event_id, _ in rows)
    assert set(counts) == {e.id for e in events}, "an event's side effect is missing"
    assert max(counts.values()) == 1, f"duplicated: {[i for i, c in counts.items() if c > 1][:5]}"
    pids = Counter(pid for _, pid in rows)
    assert len(pids) == 2 and min(pids.values()) > 0  # both processes did part of the work
    print(f"killed after {killed_at} side effects; {n} recorded exactly once")


def test_sigterm_under_load_finishes_in_flight_and_loses_nothing(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url, n = nats_server.url(), 1500
    event_type = f"rel.t{uuid.uuid4().hex[:8]}.ship"
    out = tmp_path / "handled.txt"

    def lines() -> list[tuple[str, str, int]]:
        if not out.exists():
            return []
        parts = [line.split() for line in out.read_text().splitlines()]
        return [(p[0], p[1], int(p[2])) for p in parts if len(p) == 3]

    first = second = None
    try:
        first = _start("drain", url, event_type, out)
        events = [Event(type=event_type, source="/rel", data=i) for i in range(n)]
        run(_publish(url, events), timeout=60)
        _wait(lambda: sum(1 for k, _, _ in lines() if k == "done") >= 200, 30, "load")
        first.send_signal(signal.SIGTERM)
        stdout, _ = first.communicate(timeout=30)
        assert first.returncode == 0 and "drained True" in stdout
        at_stop = lines()
        started = Counter(i for k, i, _ in at_stop if k == "start")
        finished = Counter(i for k, i, _ in at_stop if k == "done")
        assert started == finished, "a handler in flight at SIGTERM did not finish"
        assert len(finished) < n, "the first consumer finished before SIGTERM"

        second = _start("drain", url, event_type, out)
        _wait(lambda: sum(1 for k, _, _ in lines() if k == "done") >= n, 60, "the rest")
        time.sleep(1.0)  # a duplicate delivery would show up now
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=30)
    finally:
        _stop(first, second)
    done = Counter(i for k, i, _ in lines() if k == "done")
    assert set(done) == {e.id for e in events}, "an event was lost"
    assert max(done.values()) == 1, "an event was handled (and acked) twice"
    # What the first process handled it also acked: none of it came back to the second.
    first_ids = set(finished)
    assert not any(i in first_ids for k, i, a in lines()[len(at_stop) :] if k == "start")


def test_dead_letters_listed_without_loss_and_replayed(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url = nats_server.url()
    event_type = f"rel.t{uuid.uuid4().hex[:8]}.pay"
    good: set[str] = set()

    async def scenario() -> None:
        async def handle(event: Event[Any]) -> None:
            if event.data["poison"]:
                raise ValueError(f"bad card {event.data['n']}")
            good.add(event.id)

        async with EventBus(url, retry=RetryPolicy.never()) as bus:
            sub = await bus.subscribe(event_type, handle, group="payments")
            await bus.publish_many(
                Event(type=event_type, source="/rel", data={"n": i, "poison": i % 3 == 0})
                for i in range(12)
            )
            await wait_until(lambda: sub.stats.dead_lettered == 4 and len(good) == 8, 20)

    run(scenario())

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "eventbus", "dlq", *args, url, event_type, "--idle", "1"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    assert len(listed.stdout.splitlines()) == 4
    assert "bad card 0" in listed.stdout and "handler-error" in listed.stdout
    again = cli("list")  # listing gave them all back
    assert again.stdout.splitlines() == listed.stdout.splitlines()

    replayed: list[Event[Any]] = []

    async def consume_replays() -> None:
        async def handle(event: Event[Any]) -> None:
            replayed.append(event)

        async with EventBus(url) as bus:
            await bus.subscribe(event_type, handle, group="payments")
            result = await _in_thread(lambda: cli("replay", "--limit", "2"))
            assert result.returncode == 0, result.stderr
            assert "replayed 2/2" in result.stderr
            await wait_until(lambda: len(replayed) == 2, 20, "the replayed events")

    run(consume_replays())
    assert all(e.data["poison"] for e in replayed)
    assert not any(k.startswith("deadletter") for e in replayed for k in e.extensions)
    assert len(cli("list").stdout.splitlines()) == 2  # the two not replayed are still there


async def _in_thread(fn: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(fn)


def test_outbox_relay_killed_mid_stream_resends_in_order(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url, n = nats_server.url(), 3000
    event_type = f"rel.t{uuid.uuid4().hex[:8]}.order"
    db = tmp_path / "shop.db"
    outbox = SqliteOutbox(db)
    events = [
        Event(type=event_type, source="/shop", data=i, extensions={"partitionkey": f"k{i % 3}"})
        for i in range(n)
    ]
    with sqlite3.connect(db) as conn:
        outbox.create_schema(conn)
        outbox.add_many(conn, events)

    def pending() -> int:
        with sqlite3.connect(db, timeout=30) as conn:
            sql = "SELECT count(*) FROM eventbus_outbox WHERE sent_at IS NULL"
            return int(conn.execute(sql).fetchone()[0])

    def relay(*extra: str) -> list[str]:
        return [sys.executable, "-m", "eventbus", "outbox", "relay", f"sqlite:///{db}", url,
                "--batch-size", "50", "--lease", "1", *extra]  # fmt: skip

    got: list[Event[Any]] = []

    async def scenario() -> None:
        async def handle(event: Event[Any]) -> None:
            got.append(event)

        async with EventBus(url) as bus:
            await bus.subscribe(event_type, handle, group="orders", max_in_flight=1)
            process = await asyncio.to_thread(subprocess.Popen, relay(), stderr=subprocess.DEVNULL)
            try:
                await wait_until(lambda: pending() < n - 300, 30, "the relay under way")
                process.send_signal(signal.SIGKILL)
            finally:
                if process.poll() is None:
                    process.kill()
                await asyncio.to_thread(process.wait, 10)
            left = pending()
            assert 0 < left < n, "the relay was not killed mid-stream"
            await asyncio.sleep(1.1)  # the killed relay's lease runs out
            rerun = await asyncio.to_thread(
                subprocess.run, relay("--once"), capture_output=True, text=True, timeout=60
            )
            assert rerun.returncode == 0, rerun.stderr
            await wait_until(lambda: len({e.id for e in got}) == n, 60, "every event")

    run(scenario(), timeout=150)
    assert pending() == 0
    assert {e.id for e in got} == {e.id for e in events}
    for key in ("k0", "k1", "k2"):
        order = [e.data for e in got if e.extensions["partitionkey"] == key]
        assert list(dict.fromkeys(order)) == sorted(set(order)), f"{key} out of order"
