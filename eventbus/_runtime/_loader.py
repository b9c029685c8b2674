"""``MODULE:ATTR`` -> the EventBus that ``eventbus run`` serves."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from eventbus._bus._eventbus import EventBus
from eventbus._bus._handlers import HandlerGroup
from eventbus._errors import ConfigurationError

__all__ = ["load_bus"]

URL_ENV = "EVENTBUS_URL"


def _import(module_name: str) -> Any:
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())  # like ``python -m``: the current directory first
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            raise ConfigurationError(f"cannot import {module_name!r}: {exc}") from None
        raise  # an import inside the user's module failed: show its traceback


def load_bus(target: str, url: str | None) -> EventBus:
    """Resolve ``target``: an :class:`EventBus` (served as it is; ``url`` must be None), a
    :class:`HandlerGroup` (included into ``EventBus(url)``) or a function returning an
    EventBus (called as ``factory(url)``, or ``factory()`` without a URL)."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigurationError(f"{target!r}: expected MODULE:ATTR, e.g. 'shop.billing:bus'")
    obj: Any = _import(module_name)
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ConfigurationError(
                f"{target!r}: module {module_name!r} has no attribute {attr!r}"
            ) from None
    if isinstance(obj, EventBus):
        if url is not None:
            raise ConfigurationError(
                f"{target!r} is an EventBus built with its own URL; drop --url, or point "
                "'eventbus run' at a HandlerGroup or a factory function that takes the URL"
            )
        return obj
    if url is None:
        url = os.environ.get(URL_ENV)
    if isinstance(obj, HandlerGroup):
        if url is None:
            raise ConfigurationError(
                f"{target!r} is a HandlerGroup: give the broker with --url or ${URL_ENV}"
            )
        bus = EventBus(url)
        bus.include(obj)
        return bus
    if callable(obj):
        result = obj(url) if url is not None else obj()
        if not isinstance(result, EventBus):
            raise ConfigurationError(
                f"{target!r} returned {type(result).__name__}, not an EventBus"
            )
        return result
    raise ConfigurationError(
        f"{target!r} is a {type(obj).__name__}: expected an EventBus, a HandlerGroup or a "
        "function returning an EventBus"
    )
