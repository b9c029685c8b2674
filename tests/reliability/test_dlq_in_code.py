"""docs/reliability.md "Dead letters in code": its two code blocks run as written."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from eventbus import (
    DEAD_LETTER_GROUP,
    DeadLetterQueue,
    Event,
    EventBus,
    RetryPolicy,
    Router,
    create_adapter,
)
from eventbus._memory._broker import named_broker
from eventbus.testing import run, wait_until

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
ROUTER = Router({"shop.>": "orders"})


def _block(title: str) -> dict[str, Any]:
    (code,) = re.findall(rf'```python title="{re.escape(title)}"\n(.*?)```', PAGE.read_text(), re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(PAGE), "exec"), namespace)
    return namespace


async def _dead_letters(url: str) -> None:
    """Three events on 'orders' fail in the 'worker' group: three dead letters."""

    async def fail(event: Event[Any]) -> None:
        raise ValueError(f"cannot process {event.id}")

    async with EventBus(url, router=ROUTER, retry=RetryPolicy.never()) as bus:
        sub = await bus.subscribe("shop.>", fail, group="worker")
        await bus.publish_many(
            [
                Event(type="shop.order.placed", source="/t", id="p-1"),
                Event(type="shop.order.cancelled", source="/t", id="c-1"),
                Event(type="shop.order.placed", source="/t", id="p-2"),
            ]
        )
        await wait_until(lambda: sub.stats.dead_lettered == 3, what="three dead letters")


def _remaining(name: str) -> list[str]:
    return [m.headers["ce-id"] for m in named_broker(name).peek("orders.dlq", DEAD_LETTER_GROUP)]


def test_a_handler_consumes_the_dead_letter_channel() -> None:
    name = f"dlq-code-{uuid.uuid4().hex[:8]}"
    url = f"memory://{name}"
    watch = _block("dead_letter_consumer.py")["watch_dead_letters"]

    async def scenario() -> list[str]:
        await _dead_letters(url)
        alerts: list[str] = []
        async with EventBus(url, router=ROUTER) as bus:
            watch(bus, alerts)
            await wait_until(lambda: len(alerts) == 3, what="three alerts")
        return alerts

    alerts = run(scenario())
    assert sorted(alerts) == [
        "c-1 shop.order.cancelled: handler-error: cannot process c-1",
        "p-1 shop.order.placed: handler-error: cannot process p-1",
        "p-2 shop.order.placed: handler-error: cannot process p-2",
    ]
    assert _remaining(name) == []  # consumed: taken off the dead-letter channel


def test_the_tool_lists_everything_and_replays_the_selection() -> None:
    name = f"dlq-code-{uuid.uuid4().hex[:8]}"
    url = f"memory://{name}"
    review = _block("dead_letter_tool.py")["review_and_replay"]
    run(_dead_letters(url))
    seen, replayed = run(review(url))
    assert seen == ["p-1 handler-error", "c-1 handler-error", "p-2 handler-error"]
    assert replayed == 2
    assert _remaining(name) == ["c-1"]
    assert named_broker(name).depth("orders", "worker") == 2  # back where they failed


def test_hold_and_idle_on_an_adapter_that_cannot_browse() -> None:
    name = f"dlq-code-{uuid.uuid4().hex[:8]}"
    run(_dead_letters(f"memory://{name}"))

    async def listing() -> tuple[list[str | None], int, bool]:
        adapter = create_adapter(f"basic://{name}")  # shares the named broker, cannot browse
        await adapter.connect()
        try:
            queue = DeadLetterQueue(adapter, "orders", idle=0.3, hold=600, scan_limit=2)
            found = [e.id for e in await queue.list()]
            return found, queue.scanned, queue.browsable
        finally:
            await adapter.close()

    found, scanned, browsable = run(listing())
    assert not browsable
    assert (found, scanned) == (["p-1", "c-1"], 2)  # scan_limit: two read, the third unread
    assert _remaining(name) == ["p-1", "c-1", "p-2"]  # given back, in order
