"""Middleware for publish and consume.

A middleware wraps the next step; it may change the event (events are immutable: pass a new one
on), observe it, time it, or raise to stop it. Subclass :class:`Middleware` and override either
hook; the defaults pass through. The chain is composed once per subscription (and once per bus
for publishing), so an unused hook costs nothing per event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._bus._consumer import Subscription
    from eventbus._wire._message import Message

__all__ = ["ConsumeContext", "ConsumeNext", "Middleware", "PublishNext"]

PublishNext = Callable[[Event[Any]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumeContext:
    """What a consume middleware knows about a delivery besides the event.

    ``message`` and ``binding`` are the message as received and the binding that decodes it, for
    middleware that needs the wire form (contract validation checks the data as sent, not as
    decoded into the handler's type).
    """

    channel: str
    group: str | None
    attempt: int
    pattern: str
    message: Message | None = None
    binding: str | None = None


ConsumeNext = Callable[[Event[Any], ConsumeContext], Awaitable[None]]


class Middleware:
    """Base class: override ``on_publish`` and/or ``on_consume``; ``on_subscribe`` is told of
    each subscription the middleware serves (circuit breakers pause it, metrics read its stats).
    """

    def on_subscribe(self, subscription: Subscription) -> None:
        """Called once per subscription this middleware is composed into, before it starts."""

    async def on_publish(self, event: Event[Any], call_next: PublishNext) -> None:
        await call_next(event)

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        await call_next(event, context)


def _overrides(mw: Middleware, name: str) -> bool:
    return getattr(type(mw), name) is not getattr(Middleware, name)


def compose_publish(middleware: Sequence[Middleware], terminal: PublishNext) -> PublishNext:
    call = terminal
    for mw in reversed([m for m in middleware if _overrides(m, "on_publish")]):

        def step(
            event: Event[Any], _mw: Middleware = mw, _next: PublishNext = call
        ) -> Awaitable[None]:
            return _mw.on_publish(event, _next)

        call = step
    return call


def compose_consume(middleware: Sequence[Middleware], terminal: ConsumeNext) -> ConsumeNext:
    call = terminal
    for mw in reversed([m for m in middleware if _overrides(m, "on_consume")]):

        def step(
            event: Event[Any], ctx: ConsumeContext, _mw: Middleware = mw, _next: ConsumeNext = call
        ) -> Awaitable[None]:
            return _mw.on_consume(event, ctx, _next)

        call = step
    return call
