"""Transactional outbox: events commit (or roll back) with the business data, the relay publishes
them at-least-once in order per partition key and marks them sent, and a crashed relay resends
from the first unsent row (SQLite and a real PostgreSQL server)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from eventbus import (
    ConfigurationError,
    Event,
    EventBus,
    Message,
    OutboxRelay,
    PostgresOutbox,
    PublishError,
    SqliteOutbox,
    StoreError,
    decode,
)
from eventbus._cli._main import main
from eventbus._memory import MemoryAdapter
from eventbus._memory._broker import named_broker
from eventbus.testing import run, wait_until


def order_events(n: int, keys: Sequence[str] = ("A", "B", "C")) -> list[Event[Any]]:
    return [
        Event(
            type="shop.order.updated",
            source="/orders",
            data={"seq": i},
            extensions={"partitionkey": keys[i % len(keys)]},
        )
        for i in range(n)
    ]


class FlakyAdapter(MemoryAdapter):
    """Fails (or hangs) on the Nth publish call: a broker outage or a relay dying mid-batch."""

    def __init__(self, fail_on: int, *, hang: bool = False, after_send: bool = False) -> None:
        super().__init__()
        self.calls = 0
        self.fail_on, self.hang, self.after_send = fail_on, hang, after_send

    async def publish(self, channel: str, messages: Sequence[Message]) -> None:
        self.calls += 1
        if self.calls == self.fail_on:
            if self.hang:
                await asyncio.Event().wait()
            if self.after_send:
                await super().publish(channel, messages)  # sent, but the relay never hears back
            raise PublishError("broker went away")
        await super().publish(channel, messages)


def received(adapter: MemoryAdapter, channel: str = "shop.order.updated") -> list[Event[Any]]:
    return [decode(m, "ce-headers") for m in adapter.broker.peek(channel, "readers")]


def assert_in_order_per_key(events: list[Event[Any]], expected: list[Event[Any]]) -> None:
    for key in ("A", "B", "C"):
        got = [e.id for e in events if e.extensions["partitionkey"] == key]
        want = [e.id for e in expected if e.extensions["partitionkey"] == key]
        assert list(dict.fromkeys(got)) == want  # duplicates aside, nothing reordered


def sqlite_app(path: Path, outbox: SqliteOutbox) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, state TEXT)")
    outbox.create_schema(conn)
    conn.commit()
    return conn


async def test_sqlite_events_commit_and_roll_back_with_the_business_data(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "app.db")
    conn = sqlite_app(tmp_path / "app.db", outbox)
    events = order_events(30)
    with conn:  # one transaction: the order rows and their events
        for i, event in enumerate(events):
            conn.execute("INSERT INTO orders VALUES (?, 'updated')", (i,))
            outbox.add(conn, event)

    def failing_transaction() -> None:
        with conn:
            conn.execute("INSERT INTO orders VALUES (999, 'lost')")
            outbox.add(conn, Event(type="shop.order.updated", source="/orders", id="rolled-back"))
            raise RuntimeError("the business transaction fails")

    with pytest.raises(RuntimeError):
        failing_transaction()
    assert await outbox.pending() == 30

    adapter = MemoryAdapter()
    async with EventBus(adapter) as bus:
        adapter.broker.group_queue("shop.order.updated", "readers")
        relay = OutboxRelay(outbox, bus, batch_size=7)
        assert await relay.drain() == 30
    got = received(adapter)
    assert [e.id for e in got] == [e.id for e in events]
    assert got[3].data == {"seq": 3} and got[3].extensions["partitionkey"] == "A"
    assert await outbox.pending() == 0
    assert await outbox.cleanup(older_than=0) == 30
    conn.close()
    await outbox.close()


@pytest.mark.parametrize("failure", ["outage", "sent-but-unconfirmed", "killed-mid-batch"])
async def test_a_crashed_relay_resends_and_never_skips(tmp_path: Path, failure: str) -> None:
    outbox = SqliteOutbox(tmp_path / "app.db")
    conn = sqlite_app(tmp_path / "app.db", outbox)
    events = order_events(40)
    with conn:
        outbox.add_many(conn, events)
    # Batches of 15: publish calls 1 and 2 carry rows 1-30, call 3 (the one that fails) 31-40.
    adapter = FlakyAdapter(
        fail_on=3, hang=failure == "killed-mid-batch", after_send=failure == "sent-but-unconfirmed"
    )
    adapter._dedupe_window = 0  # show the duplicates the broker would otherwise drop
    async with EventBus(adapter) as bus:
        adapter.broker.group_queue("shop.order.updated", "readers")
        relay = OutboxRelay(outbox, bus, batch_size=15, lease=1.0)
        if failure == "killed-mid-batch":
            task = asyncio.create_task(relay.drain())
            await wait_until(lambda: adapter.calls == 3, what="the relay stuck mid-batch")
            task.cancel()  # the relay dies holding its lease and unsent rows
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            with pytest.raises(PublishError):
                await relay.drain()
        assert 0 < await outbox.pending() < 40
        second = OutboxRelay(outbox, bus, batch_size=15, lease=1.0)
        if failure == "killed-mid-batch":
            await asyncio.sleep(1.1)  # the dead relay's lease runs out
        assert await second.drain() > 0
    got = received(adapter)
    assert {e.id for e in got} == {e.id for e in events}  # nothing skipped
    assert_in_order_per_key(got, events)
    # Sent but not confirmed: that run (10 rows) goes out twice; at-least-once, never a gap.
    assert len(got) == 40 + (10 if failure == "sent-but-unconfirmed" else 0)
    assert await outbox.pending() == 0
    conn.close()
    await outbox.close()


async def test_one_relay_at_a_time_and_run_until_stopped(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "app.db")
    conn = sqlite_app(tmp_path / "app.db", outbox)
    adapter = MemoryAdapter()
    async with EventBus(adapter) as bus:
        adapter.broker.group_queue("shop.order.updated", "readers")
        first = OutboxRelay(outbox, bus, poll_interval=0.05)
        assert await first.acquire()
        with pytest.raises(ConfigurationError, match="another relay holds the lease"):
            await OutboxRelay(outbox, bus).drain()
        await outbox.release(first.name, first.owner)
        stop = asyncio.Event()
        task = asyncio.create_task(first.run(stop))
        with conn:
            outbox.add_many(conn, order_events(5))
        await wait_until(lambda: len(received(adapter)) == 5, what="relayed while running")
        stop.set()
        await asyncio.wait_for(task, 5)
    conn.close()
    await outbox.close()


def test_missing_table_is_named(tmp_path: Path) -> None:
    outbox = SqliteOutbox(tmp_path / "app.db")
    conn = sqlite3.connect(tmp_path / "app.db")
    with pytest.raises(StoreError, match=r"call outbox\.create_schema"):
        outbox.add(conn, Event(type="t", source="/s"))
    conn.close()


async def test_postgres_outbox_commits_with_the_transaction(postgres_url: str) -> None:
    import psycopg

    outbox = PostgresOutbox(postgres_url)
    events = order_events(25)
    async with await psycopg.AsyncConnection.connect(postgres_url) as conn:
        await outbox.create_schema(conn)
        await conn.execute("CREATE TABLE orders (id INT PRIMARY KEY)")
        await conn.commit()
        async with conn.transaction():
            for i, event in enumerate(events):
                await conn.execute("INSERT INTO orders VALUES (%s)", (i,))
                await outbox.add(conn, event)

        async def failing_transaction() -> None:
            async with conn.transaction():
                await outbox.add(conn, Event(type="shop.order.updated", source="/o", id="gone"))
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            await failing_transaction()
    with psycopg.connect(postgres_url, autocommit=True) as sync_conn:
        outbox.add_sync(sync_conn, Event(type="shop.order.updated", source="/o", id="sync-1"))
    assert await outbox.pending() == 26

    adapter = FlakyAdapter(fail_on=2)
    async with EventBus(adapter) as bus:
        adapter.broker.group_queue("shop.order.updated", "readers")
        with pytest.raises(PublishError):
            await OutboxRelay(outbox, bus, batch_size=10).drain()
        assert await OutboxRelay(outbox, bus, batch_size=10).drain() == 16
    got = received(adapter)
    assert [e.id for e in got] == [e.id for e in events] + ["sync-1"]
    assert await outbox.pending() == 0
    await outbox.close()


def test_cli_relays_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "app.db"
    outbox = SqliteOutbox(db)
    conn = sqlite_app(db, outbox)
    with conn:
        outbox.add_many(conn, order_events(12))
    conn.close()
    name = f"outbox-{uuid.uuid4().hex[:8]}"
    named_broker(name).group_queue("shop.order.updated", "readers")
    assert main(["outbox", "relay", f"sqlite:///{db}", f"memory://{name}", "--once"]) == 0
    assert "relayed 12 event(s)" in capsys.readouterr().err
    assert named_broker(name).depth("shop.order.updated", "readers") == 12
    assert main(["outbox", "relay", f"sqlite:///{db}", f"memory://{name}", "--once"]) == 0
    assert "relayed 0 event(s)" in capsys.readouterr().err
    run(outbox.close())


def test_cli_status_and_relay_print_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "app.db"
    outbox = SqliteOutbox(db)
    conn = sqlite_app(db, outbox)
    with conn:
        outbox.add_many(conn, order_events(5))
    conn.close()
    name = f"outbox-{uuid.uuid4().hex[:8]}"
    named_broker(name).group_queue("shop.order.updated", "readers")
    assert main(["outbox", "status", f"sqlite:///{db}", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status == {"outbox": outbox.name, "table": "eventbus_outbox", "pending": 5}
    argv = ["outbox", "relay", f"sqlite:///{db}", f"memory://{name}", "--once", "--json"]
    assert main([*argv, "--batch-size", "2"]) == 0
    relayed = json.loads(capsys.readouterr().out)
    assert relayed == {
        "outbox": outbox.name,
        "relayed": 5,
        "batches": 3,
        "failures": 0,
        "pending": 0,
    }
    assert main(["outbox", "status", f"sqlite:///{db}"]) == 0
    assert capsys.readouterr().out == f"{outbox.name}: 0 event(s) pending\n"
    run(outbox.close())


def test_cli_errors_never_show_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    from servers import free_port

    url = f"postgresql://app:hunter2@127.0.0.1:{free_port()}/shop"
    assert main(["outbox", "relay", url, "memory://", "--once"]) == 1
    err = capsys.readouterr().err
    assert "hunter2" not in err and "app:***@127.0.0.1" in err
    assert main(["outbox", "relay", "mysql://app:hunter2@h/db", "memory://", "--once"]) == 2
    err = capsys.readouterr().err
    assert "hunter2" not in err and "unsupported outbox database URL" in err
