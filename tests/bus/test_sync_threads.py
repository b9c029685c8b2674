"""docs/sync.md: the example runs as written, and each threading rule holds."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from eventbus import Event, EventLoopError, SyncEventBus
from eventbus.testing import run, wait_until

PAGE = Path(__file__).resolve().parents[2] / "docs" / "sync.md"


def _example() -> dict[str, Any]:
    (code,) = re.findall(r'```python title="sync_example.py"\n(.*?)```', PAGE.read_text(), re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(PAGE), "exec"), namespace)
    return namespace


def test_the_example_runs_as_written(memory_url: str) -> None:
    shipped = _example()["run_shop"](memory_url, 5)
    assert shipped == [f"o-{n}" for n in range(5)]


def test_publish_from_many_threads_at_once(memory_url: str) -> None:
    seen: list[str] = []
    lock = threading.Lock()
    with SyncEventBus(memory_url) as bus:

        @bus.subscribe("load.item")
        def count(event: Event[Any]) -> None:
            with lock:
                seen.append(event.id)

        def publish(n: int) -> None:
            bus.publish(Event(type="load.item", source="/t", id=f"e-{n}"))

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(publish, range(200)))
        run(wait_until(lambda: len(seen) == 200, what="every event handled"))
        assert bus.close()
    assert sorted(seen) == sorted(f"e-{n}" for n in range(200))


def test_plain_handlers_run_in_worker_threads_async_ones_on_the_loop(memory_url: str) -> None:
    threads: dict[str, str] = {}
    with SyncEventBus(memory_url) as bus:

        @bus.subscribe("where.plain")
        def plain(event: Event[Any]) -> None:
            threads["plain"] = threading.current_thread().name

        @bus.subscribe("where.coroutine")
        async def coroutine(event: Event[Any]) -> None:
            threads["coroutine"] = threading.current_thread().name
            try:  # blocking on its own loop would hang: it raises at once instead
                bus.publish(Event(type="where.never", source="/t"))
            except EventLoopError:
                threads["blocking call"] = "refused"

        bus.publish(Event(type="where.plain", source="/t"))
        bus.publish(Event(type="where.coroutine", source="/t"))
        run(wait_until(lambda: len(threads) == 3, what="both handlers"))
        bus.close()
    assert threads["coroutine"] == "eventbus-loop"
    assert threads["blocking call"] == "refused"
    assert threads["plain"] not in ("eventbus-loop", threading.main_thread().name)


@pytest.mark.parametrize("limit", [4, 1])
def test_plain_handlers_run_max_in_flight_at_once(memory_url: str, limit: int) -> None:
    """With max_in_flight > 1 several plain handlers run at the same time (so they must be
    thread-safe); with 1, one at a time."""
    running = most = 0
    lock = threading.Lock()
    release = threading.Event()
    with SyncEventBus(memory_url) as bus:

        @bus.subscribe("busy.work", max_in_flight=limit)
        def work(event: Event[Any]) -> None:
            nonlocal running, most
            with lock:
                running += 1
                most = max(most, running)
            release.wait(30)
            with lock:
                running -= 1

        for n in range(6):
            bus.publish(Event(type="busy.work", source="/t", id=f"w-{n}"))
        run(wait_until(lambda: most == limit, what=f"{limit} handler(s) running"))
        release.set()
        assert bus.close()
    assert most == limit
