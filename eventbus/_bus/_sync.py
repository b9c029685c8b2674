"""``SyncEventBus``: the same bus for code that is not async.

The async bus runs on an event loop in a background thread; every call blocks until the loop
has done it. Handlers may be plain functions (they run in worker threads) or coroutines. A
coroutine handler runs on that loop, so it must not make blocking calls on this facade (they
would wait for themselves): they raise :class:`EventLoopError`; use ``await bus.bus.publish``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable
from types import TracebackType
from typing import Any, TypeVar

from eventbus._bus._consumer import Subscription
from eventbus._bus._eventbus import EventBus
from eventbus._bus._handler import Handler
from eventbus._errors import BusClosedError, EventLoopError
from eventbus._wire._event import Event

__all__ = ["SyncEventBus"]

R = TypeVar("R")
H = TypeVar("H", bound=Handler)


class SyncEventBus:
    """Blocking facade over :class:`EventBus`; takes the same arguments.

    Threading rules (docs/sync.md):

    - :meth:`open` starts one background thread (``eventbus-loop``) running the bus's event
      loop; every call blocks its caller until the loop has done it. Calls may come from any
      number of threads at once (``publish`` from a thread pool is safe).
    - A plain ``def`` handler runs in a worker thread (asyncio's default executor), up to
      ``max_in_flight`` at once per subscription: with ``max_in_flight > 1`` it must be
      thread-safe. It may block, and may call this facade (``publish`` included).
    - An ``async def`` handler runs on the loop thread: it must not block, and a blocking call
      on this facade from it raises :class:`EventLoopError` instead of waiting for itself
      forever; use ``await sync_bus.bus.publish(event)`` there.
    - :meth:`close` drains (as :meth:`EventBus.close`) and then stops the loop thread.
    """

    def __init__(self, url: Any = "memory://", **options: Any) -> None:
        self._bus = EventBus(url, **options)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def bus(self) -> EventBus:
        """The async bus behind this facade (for ``async def`` handlers)."""
        return self._bus

    def __repr__(self) -> str:
        return f"Sync{self._bus!r}"

    def __enter__(self) -> SyncEventBus:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Start the loop thread and open the bus (registered subscriptions start)."""
        if self._loop is not None:
            raise BusClosedError(f"{self!r} is already open")
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="eventbus-loop", daemon=True)
        self._thread.start()
        ready.wait()
        self._loop = loop
        try:
            self._run(self._bus.open())
        except BaseException:
            self._stop_loop()
            raise

    def close(self, timeout: float | None = None) -> bool:
        """Drain and close the bus (see :meth:`EventBus.close`), then stop the loop thread.
        True if fully drained."""
        if self._loop is None:
            return True
        try:
            return self._run(self._bus.close(timeout))
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join()
        if loop is not None:
            loop.close()

    def _run(self, coro: Coroutine[Any, Any, R]) -> R:
        loop = self._loop
        if loop is None:
            coro.close()
            raise BusClosedError(f"{self!r} is not open: use 'with bus:' or 'bus.open()'")
        if self._thread is not None and threading.get_ident() == self._thread.ident:
            # Called from the bus's own loop (an ``async def`` handler): blocking here would
            # wait for the loop this call is blocking, forever.
            coro.close()
            raise EventLoopError(
                f"{self!r}: a blocking call was made on the bus's own event loop (from an "
                "'async def' handler?); it would wait for itself forever. In an async handler "
                "use the async bus: 'await sync_bus.bus.publish(event)', or make the handler a "
                "plain 'def' (it then runs in a worker thread and may block)"
            )
        return asyncio.run_coroutine_threadsafe(coro, loop).result()

    def publish(self, event: Event[Any]) -> None:
        """Publish one event; returns once the broker has it."""
        self._run(self._bus.publish(event))

    def publish_many(self, events: Iterable[Event[Any]]) -> None:
        """Publish several events in order (batched per channel where the adapter batches)."""
        self._run(self._bus.publish_many(list(events)))

    def subscribe(
        self, pattern: str, handler: H | None = None, **options: Any
    ) -> Subscription | Callable[[H], H]:
        """Like :meth:`EventBus.subscribe`; on an open bus it returns once the subscription listens."""
        if handler is None:

            def decorator(func: H) -> H:
                self.subscribe(pattern, func, **options)
                return func

            return decorator
        if self._loop is None:
            return self._bus.subscribe(pattern, handler, **options)

        async def start() -> Subscription:
            return await self._bus.subscribe(pattern, handler, **options)

        return self._run(start())

    def close_subscription(self, subscription: Subscription, timeout: float | None = 30.0) -> bool:
        """Stop one subscription, letting its in-flight handlers finish within ``timeout``."""
        return self._run(subscription.close(timeout))
