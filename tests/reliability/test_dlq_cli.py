"""``eventbus dlq list|show|replay``: on a named in-memory broker, through the CLI's main()."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eventbus import DEAD_LETTER_GROUP, Event, EventBus, RetryPolicy, Router, decode
from eventbus._cli import main
from eventbus._dlq_cli import ProgressBar, parse_since
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


def test_replay_republishes_the_original_events_and_acks_the_dead_letters(
    broker: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"memory://{broker}"
    _fill(url, consumed_by="worker")
    # Replay the two 'placed' ones (seconds after they were first published: the broker's
    # publisher dedupe must not swallow them).
    code = main(["dlq", "replay", url, "orders", "--type", "shop.order.placed", "--idle", "0.2"])
    assert code == 0
    err = capsys.readouterr().err
    assert "replayed 2/2 [" in err
    assert "replayed 2, skipped 0" in err
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
    assert main(["dlq", "list", "memory://x", "orders", "--limit", "0"]) == 2
    assert "--limit must be >= 1" in capsys.readouterr().err
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

    sink = Sink()
    bar = ProgressBar(sink, width=10)  # type: ignore[arg-type]
    for i in range(1, 101):
        bar(i, 100)
    lines = sink.text.splitlines()
    assert len(lines) == 11  # the first, then one per tenth: not one per event
    assert lines[0] == "replayed 1/100 [..........]"
    assert lines[-1] == "replayed 100/100 [##########]"
