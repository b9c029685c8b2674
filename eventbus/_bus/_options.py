"""The typed options of ``subscribe()`` and ``EventBus()``, and their checks.

Type checkers see :class:`SubscribeOptions` (``grup=`` or ``retry=5`` is a type error); at run
time every value is checked once more, so a caller without a type checker gets a
:class:`~eventbus.ConfigurationError` that names the option and what it accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from eventbus._bus._middleware import Middleware
from eventbus._bus._retry import RetryPolicy
from eventbus._errors import ConfigurationError

__all__ = ["SubscribeOptions", "check_bus_options", "check_subscribe_options"]


class SubscribeOptions(TypedDict, total=False):
    """Keyword options of :meth:`EventBus.subscribe` (all optional). A wrong one raises
    :class:`~eventbus.ConfigurationError` naming it and what it accepts."""

    group: str | None
    """Competing consumers sharing the events (default None: every subscriber gets every
    event). A durable group keeps events while no member listens."""
    retry: RetryPolicy | None
    """Attempts and backoff of a failing handler (default None: the bus's ``retry``)."""
    max_in_flight: int | None
    """Handlers running at once, >= 1 (default None: the bus's ``max_in_flight``, 64)."""
    channel: str | None
    """Listen on this channel instead of the one the router gives the pattern (default None)."""
    dead_letter_channel: str | bool | None
    """Where failed events go (default None: ``<channel>.dlq``); False drops them after
    logging."""
    data_type: Any
    """Decode data as this type instead of the handler's ``Event[T]`` (default None)."""
    ordered: bool
    """Handle events of one partition key one at a time, in order (default False)."""
    ack_wait: float
    """Seconds before an unsettled message is redelivered, > 0 (default 30)."""
    middleware: Sequence[Middleware]
    """Consume middleware for this subscription only, run after the bus's (default none)."""


_SUBSCRIBE_ACCEPTS = {
    "group": "a non-empty str or None",
    "retry": "a RetryPolicy or None",
    "max_in_flight": "an int >= 1 or None",
    "channel": "a non-empty str or None",
    "dead_letter_channel": "a channel name (str), False (drop) or None (derived)",
    "data_type": "a type (class) or None",
    "ordered": "True or False",
    "ack_wait": "a number of seconds > 0",
    "middleware": "a list or tuple of Middleware",
}


def _bad(where: str, name: str, value: Any, accepts: str) -> ConfigurationError:
    return ConfigurationError(
        f"{where}: option {name}={_show(value)} is invalid; it accepts {accepts}"
    )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _valid_middleware(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(m, Middleware) for m in value)


def _valid_subscribe(name: str, value: Any) -> bool:
    if name in ("group", "channel"):
        return value is None or (isinstance(value, str) and bool(value))
    if name == "retry":
        return value is None or isinstance(value, RetryPolicy)
    if name == "max_in_flight":
        return value is None or (_is_int(value) and value >= 1)
    if name == "dead_letter_channel":
        return value is None or value is False or (isinstance(value, str) and bool(value))
    if name == "data_type":
        return value is None or isinstance(value, type) or hasattr(value, "__origin__")
    if name == "ordered":
        return isinstance(value, bool)
    if name == "ack_wait":
        return _is_number(value) and value > 0
    return _valid_middleware(value)  # "middleware"


def check_subscribe_options(where: str, options: Mapping[str, Any]) -> None:
    """Raise ConfigurationError for an unknown option or a value of the wrong kind."""
    for name, value in options.items():
        accepts = _SUBSCRIBE_ACCEPTS.get(name)
        if accepts is None:
            known = ", ".join(sorted(_SUBSCRIBE_ACCEPTS))
            raise ConfigurationError(f"{where}: unknown option {name!r}; the options are {known}")
        if not _valid_subscribe(name, value):
            raise _bad(where, name, value, accepts)


def check_bus_options(
    *,
    content_mode: Any,
    middleware: Any,
    retry: Any,
    max_in_flight: Any,
    drain_timeout: Any,
) -> None:
    """The checks of ``EventBus(...)``'s keyword options."""
    from eventbus._wire._bindings import ContentMode

    where = "EventBus()"
    if content_mode is not None and not (
        isinstance(content_mode, ContentMode) or content_mode in ("binary", "structured")
    ):
        raise _bad(
            where,
            "content_mode",
            content_mode,
            "ContentMode.BINARY, .STRUCTURED ('binary' / 'structured') or None (the adapter's default)",
        )
    if not _valid_middleware(middleware):
        raise _bad(where, "middleware", middleware, "a list or tuple of Middleware")
    if retry is not None and not isinstance(retry, RetryPolicy):
        raise _bad(where, "retry", retry, "a RetryPolicy or None")
    if not (_is_int(max_in_flight) and max_in_flight >= 1):
        raise _bad(where, "max_in_flight", max_in_flight, "an int >= 1")
    if not (_is_number(drain_timeout) and drain_timeout >= 0):
        raise _bad(where, "drain_timeout", drain_timeout, "a number of seconds >= 0")
