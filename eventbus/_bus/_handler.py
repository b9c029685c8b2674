"""Handler introspection: how to call a handler and which data type it declares."""

from __future__ import annotations

import asyncio
import inspect
import typing
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from eventbus._bus._middleware import ConsumeContext
from eventbus._errors import ConfigurationError
from eventbus._wire._data import data_type_problem, type_name
from eventbus._wire._event import Event

__all__ = ["Handler", "HandlerInfo", "inspect_handler"]

Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class HandlerInfo:
    #: Runs the handler; returns what it returned (a request's reply, see docs/request-reply.md).
    call: Callable[[Event[Any], ConsumeContext], Awaitable[Any]]
    data_type: Any
    name: str
    #: The handler itself when it is ``async def handler(event)``: callable without a context.
    direct: Callable[[Event[Any]], Awaitable[Any]] | None = None


def _declared_data_type(handler: Handler, first: inspect.Parameter | None) -> Any:
    if first is None:
        return None
    try:
        hints = typing.get_type_hints(handler)
        annotation = hints.get(first.name, inspect.Parameter.empty)
    except Exception:  # unresolvable forward reference: fall back to generic data
        annotation = first.annotation
    if annotation is inspect.Parameter.empty or isinstance(annotation, str):
        return None
    if annotation is Event:
        return None
    if typing.get_origin(annotation) is Event:
        (arg,) = typing.get_args(annotation)
        return None if arg is Any else arg
    raise ConfigurationError(
        f"handler {getattr(handler, '__qualname__', handler)!r}: its first parameter must be "
        f"annotated Event or Event[T], not {annotation!r}"
    )


def inspect_handler(handler: Handler, data_type: Any = None) -> HandlerInfo:
    """Validate ``handler`` and build the coroutine the consumer pipeline calls.

    A handler takes ``(event)`` or ``(event, context)``. ``async def`` handlers run on the loop;
    plain functions run in a worker thread so they may block.
    """
    if not callable(handler):
        raise ConfigurationError(f"handler must be callable, got {type(handler).__name__}")
    name = getattr(handler, "__qualname__", repr(handler))
    try:
        params = [
            p
            for p in inspect.signature(handler).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"cannot inspect handler {name!r}: {exc}") from exc
    if len(params) not in (1, 2):
        raise ConfigurationError(
            f"handler {name!r} must take (event) or (event, context), takes {len(params)} arguments"
        )
    declared = _declared_data_type(handler, params[0])
    wants_context = len(params) == 2
    is_async = inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        type(handler).__call__
    )

    if is_async and wants_context:
        call = handler
    elif is_async:

        def call(event: Event[Any], ctx: ConsumeContext) -> Awaitable[Any]:
            return handler(event)  # type: ignore[no-any-return]

    else:

        async def call(event: Event[Any], ctx: ConsumeContext) -> Any:
            args = (event, ctx) if wants_context else (event,)
            return await asyncio.to_thread(partial(handler, *args))

    kind = data_type if data_type is not None else declared
    problem = data_type_problem(kind)
    if problem is not None:
        raise ConfigurationError(
            f"handler {name!r}: event data cannot be decoded into {type_name(kind)}: {problem}"
        )
    return HandlerInfo(
        call=call,
        data_type=kind,
        name=name,
        direct=handler if is_async and not wants_context else None,
    )
