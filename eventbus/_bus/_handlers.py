"""Handler groups (like FastAPI's ``APIRouter``) and the start-up / shutdown hooks of a bus.

A module fills a :class:`HandlerGroup` with ``@handlers.subscribe(...)``; a service includes it
into its bus with ``bus.include(handlers)``, optionally under a type prefix, a consumer group or
middleware for the whole group. Hooks registered with ``on_startup`` / ``on_shutdown`` (on a
group or on the bus) run when the bus opens and closes, under ``async with bus`` as under
``eventbus run``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, Unpack, overload

from eventbus._bus._handler import Handler
from eventbus._bus._middleware import Middleware
from eventbus._bus._options import SubscribeOptions, check_subscribe_options
from eventbus._errors import ConfigurationError

__all__ = [
    "HandlerGroup",
    "Hook",
    "Lifespan",
    "Registration",
    "check_hook",
    "join_prefix",
    "resolve",
]

log = logging.getLogger("eventbus")
H = TypeVar("H", bound=Handler)
#: A start-up or shutdown hook: ``async def hook() -> None`` (a plain function is called too).
Hook = Callable[[], Awaitable[None] | None]
K = TypeVar("K", bound=Hook)


def join_prefix(prefix: str, pattern: str) -> str:
    """``orders`` + ``created`` -> ``orders.created`` (an empty prefix leaves the pattern)."""
    prefix = prefix.strip(".")
    return f"{prefix}.{pattern}" if prefix else pattern


def check_hook(hook: Any, where: str) -> None:
    if not callable(hook):
        raise ConfigurationError(f"{where}: a hook must be callable, got {type(hook).__name__}")
    try:
        required = [
            p
            for p in inspect.signature(hook).parameters.values()
            if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        ]
    except (TypeError, ValueError):
        return
    if required:
        name = getattr(hook, "__qualname__", repr(hook))
        raise ConfigurationError(f"{where}: hook {name!r} must take no arguments")


class Lifespan:
    """Start-up hooks run in order; shutdown hooks of a started lifespan run in reverse order,
    each even when an earlier one failed (the first failure is raised afterwards)."""

    def __init__(self) -> None:
        self.startup: list[Hook] = []
        self.shutdown: list[Hook] = []
        self._started = False

    def extend(self, other: Lifespan) -> None:
        self.startup.extend(other.startup)
        self.shutdown.extend(other.shutdown)

    async def start(self) -> None:
        self._started = True
        for hook in self.startup:
            result = hook()
            if inspect.isawaitable(result):
                await result

    async def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        failure: BaseException | None = None
        for hook in reversed(self.shutdown):
            try:
                result = hook()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                log.error("eventbus: shutdown hook %r failed: %r", _name(hook), exc)
                failure = failure or exc
        if failure is not None:
            raise failure


def _name(hook: Hook) -> str:
    return getattr(hook, "__qualname__", repr(hook))


@dataclass(frozen=True)
class Registration:
    """One ``subscribe()`` made on a group, as the bus will make it."""

    pattern: str
    handler: Handler
    options: dict[str, Any]


class HandlerGroup:
    """Handlers (and hooks) collected by a module, included into a bus with ``bus.include``.

    ``prefix`` is put before every pattern (``HandlerGroup(prefix="orders")`` makes
    ``subscribe("created")`` listen to ``orders.created``); ``group`` is the consumer group of
    every subscription that names none; ``middleware`` runs (after the bus's) around every
    handler of the group.
    """

    def __init__(
        self,
        *,
        prefix: str = "",
        group: str | None = None,
        middleware: Sequence[Middleware] = (),
    ) -> None:
        check_subscribe_options("HandlerGroup()", {"group": group, "middleware": tuple(middleware)})
        if not isinstance(prefix, str):
            raise ConfigurationError(
                f"HandlerGroup(): option prefix={prefix!r} is invalid; it accepts a str"
            )
        self.prefix = prefix
        self.group = group
        self.middleware = tuple(middleware)
        self.lifespan = Lifespan()
        self._registrations: list[Registration] = []

    def __repr__(self) -> str:
        return f"HandlerGroup(prefix={self.prefix!r}, handlers={len(self._registrations)})"

    @overload
    def subscribe(self, pattern: str, handler: H, **options: Unpack[SubscribeOptions]) -> H: ...

    @overload
    def subscribe(
        self, pattern: str, handler: None = None, **options: Unpack[SubscribeOptions]
    ) -> Callable[[H], H]: ...

    def subscribe(
        self, pattern: str, handler: H | None = None, **options: Unpack[SubscribeOptions]
    ) -> H | Callable[[H], H]:
        """Register ``handler`` for ``pattern`` with the options of :meth:`EventBus.subscribe`;
        checked now, subscribed when the group is included into a bus."""
        check_subscribe_options(f"subscribe({pattern!r})", options)
        if handler is None:

            def decorator(func: H) -> H:
                self.subscribe(pattern, func, **options)
                return func

            return decorator
        self._registrations.append(Registration(pattern, handler, dict(options)))
        return handler

    def include(
        self,
        other: HandlerGroup,
        *,
        prefix: str = "",
        group: str | None = None,
        middleware: Sequence[Middleware] = (),
    ) -> None:
        """Add ``other``'s handlers and hooks to this group (under ``prefix``, ``group``,
        ``middleware`` as for :meth:`EventBus.include`)."""
        if other is self:
            raise ConfigurationError("a HandlerGroup cannot include itself")
        for reg in resolve(other, prefix=prefix, group=group, middleware=middleware):
            self._registrations.append(reg)
        self.lifespan.extend(other.lifespan)

    def on_startup(self, hook: K) -> K:
        """Decorator: run ``hook()`` when the bus opens, before the subscriptions start."""
        check_hook(hook, "on_startup")
        self.lifespan.startup.append(hook)
        return hook

    def on_shutdown(self, hook: K) -> K:
        """Decorator: run ``hook()`` when the bus closes, after the handlers drained."""
        check_hook(hook, "on_shutdown")
        self.lifespan.shutdown.append(hook)
        return hook

    @property
    def registrations(self) -> tuple[Registration, ...]:
        """The subscriptions this group makes, with its own prefix, group and middleware."""
        return tuple(resolve(self))


def resolve(
    handlers: HandlerGroup,
    *,
    prefix: str = "",
    group: str | None = None,
    middleware: Sequence[Middleware] = (),
) -> Iterator[Registration]:
    """The group's registrations under its own and then the including side's settings."""
    if not isinstance(handlers, HandlerGroup):
        raise ConfigurationError(f"include() takes a HandlerGroup, got {type(handlers).__name__}")
    check_subscribe_options("include()", {"group": group, "middleware": tuple(middleware)})
    for reg in handlers._registrations:
        options = dict(reg.options)
        pattern = join_prefix(handlers.prefix, reg.pattern)
        if handlers.group is not None:
            options.setdefault("group", handlers.group)
        if handlers.middleware:
            options["middleware"] = (*handlers.middleware, *options.get("middleware", ()))
        pattern = join_prefix(prefix, pattern)
        if group is not None:
            options.setdefault("group", group)
        if middleware:
            options["middleware"] = (*middleware, *options.get("middleware", ()))
        yield Registration(pattern, reg.handler, options)
