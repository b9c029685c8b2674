"""``PublishedEvents``: capture what a bus published and assert on it.

Install it as the last middleware (after validation) so it records exactly what was sent::

    published = PublishedEvents()
    bus = EventBus("memory://", middleware=[ValidationMiddleware(registry), published])
    ...
    published.assert_published("com.example.shop.order.placed", where={"order_id": "o-1"})
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import msgspec

from eventbus._bus._middleware import Middleware, PublishNext
from eventbus._wire._event import Event

__all__ = ["PublishedEvents"]

Where = Mapping[str, Any] | Callable[[Event[Any]], bool] | None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool | dict | list):
        return value
    return msgspec.to_builtins(value, str_keys=True)


def _mismatch(expected: Any, actual: Any, pointer: str = "") -> str | None:
    """Where ``actual`` does not contain ``expected`` (mappings match as subsets)."""
    if isinstance(expected, Mapping):
        if not isinstance(actual, Mapping):
            return f"{pointer or '/'}: {actual!r} is not an object"
        for key, want in expected.items():
            if key not in actual:
                return f"{pointer}/{key}: missing"
            found = _mismatch(want, actual[key], f"{pointer}/{key}")
            if found:
                return found
        return None
    if expected != actual or (type(expected) is bool) != (type(actual) is bool):
        return f"{pointer or '/'}: {actual!r} != {expected!r}"
    return None


class PublishedEvents(Middleware):
    """Records every event published through its bus, once the broker has accepted it."""

    def __init__(self) -> None:
        self.events: list[Event[Any]] = []
        self._waiters: list[asyncio.Future[None]] = []

    async def on_publish(self, event: Event[Any], call_next: PublishNext) -> None:
        await call_next(event)
        self.events.append(event)
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event[Any]]:
        return iter(list(self.events))

    def clear(self) -> None:
        self.events.clear()

    def of_type(self, event_type: str) -> list[Event[Any]]:
        return [e for e in self.events if e.type == event_type]

    def _why_not(
        self, event: Event[Any], where: Where, attributes: Mapping[str, Any]
    ) -> str | None:
        for name, value in attributes.items():
            if event.get(name) != value:
                return f"{name} is {event.get(name)!r}, not {value!r}"
        if where is None:
            return None
        if callable(where):
            return None if where(event) else "the where predicate is false"
        return _mismatch(where, _plain(event.data))

    def find(self, event_type: str, where: Where = None, **attributes: Any) -> list[Event[Any]]:
        """Published events of ``event_type`` whose data contains ``where`` (a mapping, matched
        as a subset; or a predicate on the event) and whose attributes equal ``attributes``."""
        return [e for e in self.of_type(event_type) if self._why_not(e, where, attributes) is None]

    def assert_published(
        self, event_type: str, where: Where = None, *, count: int | None = None, **attributes: Any
    ) -> Event[Any]:
        """Assert such an event was published (exactly ``count`` times if given); return the
        first. The failure message says why each candidate did not match."""
        matches = self.find(event_type, where, **attributes)
        if matches and (count is None or len(matches) == count):
            return matches[0]
        wanted = f"{event_type}" + (
            f" where {where!r}" if where is not None and not callable(where) else ""
        )
        if attributes:
            wanted += f" with {attributes!r}"
        if matches:
            raise AssertionError(f"expected {count} published {wanted}, found {len(matches)}")
        candidates = self.of_type(event_type)
        lines = [f"expected a published {wanted}, found none"]
        if not candidates:
            types = sorted({e.type for e in self.events})
            lines.append(f"published types: {', '.join(types) or 'nothing was published'}")
        for index, event in enumerate(candidates):
            lines.append(f"  [{index}] id={event.id}: {self._why_not(event, where, attributes)}")
        raise AssertionError("\n".join(lines))

    def assert_not_published(self, event_type: str, where: Where = None, **attributes: Any) -> None:
        matches = self.find(event_type, where, **attributes)
        if matches:
            raise AssertionError(
                f"expected no published {event_type}, found {len(matches)}: {matches[0]!r}"
            )

    async def wait_for(
        self, event_type: str, where: Where = None, *, timeout: float = 5.0, **attributes: Any
    ) -> Event[Any]:
        """Wait until a matching event is published (e.g. by a handler); return it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.find(event_type, where, **attributes)
            if found:
                return found[0]
            left = deadline - loop.time()
            if left <= 0:
                return self.assert_published(event_type, where, **attributes)
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(waiter), left)
