"""``eventbus dlq list|show|replay``: on a named in-memory broker, through the CLI's main()."""

from __future__ import annotations

import json
import os
import re
import select
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventbus import DEAD_LETTER_GROUP, Event, EventBus, RetryPolicy, Router, decode
from eventbus._cli._main import main
from eventbus._cli._progress import ProgressBar, ScanProgress, duration
from eventbus._dlq._cli import parse_since
from eventbus._memory._broker import named_broker
from eventbus.testing import run, wait_until

ROUTER = Router({"shop.>": "orders"})


def _fill(url: str, consumed_by: str = "worker") -> list[Event[Any]]:
    """Publish 6 events to 'orders'; the consumer fails 4 of them (dead-lettered at once)."""
    events = [
        Event(type="shop.order.placed", source="/t", id="ok-1"),
        Event(type="shop.order.placed", source="/t", id="bad-1", data={"n": 1}),
        Event(type="shop.order.cancelled", source="/t", id="bad-2"),
        Event(type="shop.order.placed", source="/t", id="bad-3", data={"n": 3}),
        Event(type="shop.order.placed", source="/t", id="ok-2"),
        Event(type="shop.order.cancelled", source="/t", id="bad-4"),
    ]

    async def scenario() -> None:
        async def handle(event: Event[Any]) -> None:
            if event.id.startswith("bad"):
                raise ValueError(f"cannot process {event.id}")

        async with EventBus(url, router=ROUTER, retry=RetryPolicy.never()) as bus:
            sub = await bus.subscribe("shop.>", handle, group=consumed_by)
            await bus.publish_many(events)
            await wait_until(lambda: sub.stats.received == 6, what="all consumed")
            await wait_until(lambda: sub.stats.dead_lettered == 4, what="four dead letters")

    run(scenario())
    return events


def _dead_ids(name: str) -> list[str]:
    return [m.headers["ce-id"] for m in named_broker(name).peek("orders.dlq", DEAD_LETTER_GROUP)]


@pytest.fixture
def broker() -> str:
    return f"dlq-{uuid.uuid4().hex[:8]}"


def test_list_and_show_select_without_losing_any(
    broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"memory://{broker}"
    _fill(url)
    assert _dead_ids(broker) == ["bad-1", "bad-2", "bad-3", "bad-4"]

    assert main(["dlq", "list", url, "orders", "--idle", "0.2"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == ["bad-1", "bad-2", "bad-3", "bad-4"]
    assert all("handler-error" in line and "ValueError" not in line for line in lines)
    assert "cannot process bad-1" in lines[0]
    assert "4 dead letter(s) selected, 4 scanned on orders.dlq" in err
    assert _dead_ids(broker) == ["bad-1", "bad-2", "bad-3", "bad-4"]  # all still there, in order

    assert (
        main(["dlq", "list", url, "orders", "--type", "shop.order.cancelled", "--idle", "0.2"]) == 0
    )
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == ["bad-2", "bad-4"]
    assert (
        main(["dlq", "list", url, "orders", "--limit", "1", "--since", "1h", "--idle", "0.2"]) == 0
    )
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()] == ["bad-1"]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert main(["dlq", "list", url, "orders", "--since", future, "--idle", "0.2"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["dlq", "list", url, "orders", "--reason", "decode-error", "--idle", "0.2"]) == 0
    assert capsys.readouterr().out == ""

    assert main(["dlq", "show", url, "orders", "--id", "bad-3", "--idle", "0.2"]) == 0
    shown = json.loads(capsys.readouterr().out)["event"]
    assert shown["id"] == "bad-3" and shown["data"] == {"n": 3}
    assert shown["deadletterreason"] == "handler-error"
    assert shown["deadletterchannel"] == "orders"
    assert _dead_ids(broker) == ["bad-1", "bad-2", "bad-3", "bad-4"]

    # --json: one JSON object per line, for list and show alike.
    for command in ("list", "show"):
        assert main(["dlq", command, url, "orders", "--reason", "handler-error", "--json"]) == 0
        rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        assert [row["event"]["id"] for row in rows] == ["bad-1", "bad-2", "bad-3", "bad-4"]
        assert rows[1]["event"]["deadletterreason"] == "handler-error"
    assert _dead_ids(broker) == ["bad-1", "bad-2", "bad-3", "bad-4"]


def test_replay_republishes_the_original_events_and_acks_the_dead_letters(
    broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"memory://{broker}"
    _fill(url, consumed_by="worker")
    # Replay the two 'placed' ones (seconds after they were first published: the broker's
    # publisher dedupe must not swallow them).
    argv = ["dlq", "replay", url, "orders", "--type", "shop.order.placed", "--idle", "0.2"]
    assert main([*argv, "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "replayed": 2,
        "skipped": 0,
        "scanned": 4,
        "dlq_channel": "orders.dlq",
        "failed": None,
    }
    # Not a terminal: the scan's and the bar's summary lines, with the rate and the time taken.
    lines = err.splitlines()
    assert re.fullmatch(r"scanned 4 dead letter\(s\) on orders\.dlq in \d+\.\ds", lines[0])
    assert re.fullmatch(r"replayed 2/2 \[#{30}\] (\d+\.\d|-)/s in \d+\.\ds", lines[-2])
    assert "replayed 2, skipped 0" in lines[-1]
    assert _dead_ids(broker) == ["bad-2", "bad-4"]  # the others stay, in order
    replayed = [decode(m, "ce-headers") for m in named_broker(broker).peek("orders", "worker")]
    assert [e.id for e in replayed] == ["bad-1", "bad-3"]
    for event in replayed:
        assert not any(name.startswith("deadletter") for name in event.extensions)
        assert event.type == "shop.order.placed" and event.source == "/t"
    assert replayed[1].data == {"n": 3}

    # --dry-run replays nothing.
    assert main(["dlq", "replay", url, "orders", "--dry-run", "--idle", "0.2"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2
    assert _dead_ids(broker) == ["bad-2", "bad-4"]


def test_usage_errors_exit_2_and_name_the_problem(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dlq", "list", "memory://x", "orders", "--since", "yesterday"]) == 2
    assert "--since 'yesterday'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["dlq", "list", "memory://x", "orders", "--limit", "0"])
    assert info.value.code == 2
    assert "argument --limit: must be >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["dlq", "purge", "memory://x", "orders"])
    assert info.value.code == 2


def test_since_and_progress_bar_formats() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert parse_since("90m", now) == now - timedelta(minutes=90)
    assert parse_since("2024-05-01T10:00:00Z") == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert parse_since("2024-05-01T10:00:00") == datetime(2024, 5, 1, 10, tzinfo=UTC)

    class Sink:
        def __init__(self) -> None:
            self.text = ""

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

        def isatty(self) -> bool:
            return False

    clock = iter(float(t) for t in range(1000)).__next__  # one second per reading
    sink = Sink()
    bar = ProgressBar(sink, width=10, clock=clock)  # type: ignore[arg-type]
    for i in range(101):
        bar(i, 100)
    lines = sink.text.splitlines()
    assert len(lines) == 11  # the first, then one per tenth: not one per event
    # One clock reading per call, the clock starting at bar(0, 100): 1 done in 1 s.
    assert lines[0] == "replayed 1/100 [..........] 1.0/s ETA 1m39s"
    assert lines[5] == "replayed 50/100 [#####.....] 1.0/s ETA 50s"
    assert lines[-1] == "replayed 100/100 [##########] 1.0/s in 100.0s"
    assert [duration(s) for s in (0.4, 59, 61, 3600 + 125)] == ["0s", "59s", "1m01s", "1h02m"]


def test_progress_on_a_terminal_is_redrawn_with_rate_and_eta(broker: str) -> None:
    """On a pseudo-terminal the bar is redrawn in place (carriage return, erase line) with the
    rate and the ETA, and the scan shows how many it read; off it, nothing is redrawn."""
    master, slave = os.openpty()
    terminal = open(slave, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        assert terminal.isatty()
        ticks = iter([0.0, 0.0, 2.0, 4.0]).__next__
        bar = ProgressBar(terminal, width=4, clock=ticks)
        bar(0, 4)
        bar(1, 4)  # 1 in 2 s: 0.5/s, 3 left: 6 s
        bar(4, 4)
        scan = ScanProgress(terminal, "orders.dlq", clock=iter([0.0, 1.0, 2.0]).__next__)
        scan(3, False)
        scan(5, True)
        terminal.flush()
        text = _read_all(master, "scanned 5")
    finally:
        terminal.close()
        os.close(master)
    assert "\r\x1b[Kreplayed 1/4 [#...] 0.5/s ETA 6s" in text
    assert "\r\x1b[Kreplayed 4/4 [####] 1.0/s in 4.0s" in text
    assert "\r\x1b[Kscanning orders.dlq: 3 read, 3.0/s" in text
    assert "\r\x1b[Kscanned 5 dead letter(s) on orders.dlq in 2.0s" in text


def test_replay_on_a_terminal_redraws_the_scan_and_the_bar(
    broker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"memory://{broker}"
    _fill(url)
    master, slave = os.openpty()
    terminal = open(slave, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        assert main(["dlq", "replay", url, "orders", "--idle", "0.2"]) == 0
        terminal.flush()
        text = _read_all(master, "replayed 4/4")
    finally:
        terminal.close()
        os.close(master)
    assert re.search(r"\r\x1b\[Kscanned 4 dead letter\(s\) on orders\.dlq in \d+\.\ds", text)
    assert "\r\x1b[Kreplayed 0/4 [" in text  # drawn at once, then over
    assert re.search(r"\r\x1b\[Kreplayed 4/4 \[#{30}\] (\d+\.\d|-)/s in \d+\.\ds", text)
    assert _dead_ids(broker) == []


def _read_all(fd: int, until: str) -> str:
    """What was written to the terminal, up to and including the line holding ``until``."""
    data = b""
    while until.encode() not in data or not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, data
        data += os.read(fd, 65536)
    return data.decode()
