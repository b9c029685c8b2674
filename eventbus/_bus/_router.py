"""Event type -> channel name mapping, and type patterns.

Patterns use dot-separated tokens: ``*`` matches exactly one token, ``>`` (last token only)
matches one or more. ``com.shop.order.*`` matches ``com.shop.order.placed``;
``com.shop.>`` matches every type under ``com.shop``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from eventbus._errors import ConfigurationError

__all__ = ["Route", "Router", "is_pattern", "type_matcher"]


def is_pattern(text: str) -> bool:
    return any(tok in ("*", ">") for tok in text.split("."))


@lru_cache(maxsize=1024)
def type_matcher(pattern: str) -> Callable[[str], bool]:
    """A predicate telling whether an event type matches ``pattern``."""
    tokens = pattern.split(".")
    if not pattern or any(not t for t in tokens):
        raise ConfigurationError(f"pattern {pattern!r} has an empty token")
    if ">" in tokens[:-1]:
        raise ConfigurationError(f"pattern {pattern!r}: '>' may only be the last token")
    if not is_pattern(pattern):
        return pattern.__eq__
    parts = []
    for tok in tokens:
        if tok == "*":
            parts.append(r"[^.]+")
        elif tok == ">":
            parts.append(r"[^.]+(?:\.[^.]+)*")
        else:
            parts.append(re.escape(tok))
    regex = re.compile(r"\.".join(parts))
    return lambda event_type: regex.fullmatch(event_type) is not None


@dataclass(frozen=True, slots=True)
class Route:
    """Where a subscription listens: the adapter channel (maybe a pattern) and a type filter."""

    channel: str
    filter: Callable[[str], bool] | None


class Router:
    """Maps event types to channel names.

    By default an event type is its own channel (``prefix`` prepended), which keeps one
    subscription per type and lets brokers with subject wildcards serve type patterns natively.
    ``routes`` sends every type matching a pattern to one named channel, e.g.
    ``{"com.shop.order.>": "orders"}``; subscribers of such types filter by type.
    """

    def __init__(
        self,
        routes: Mapping[str, str] | None = None,
        *,
        prefix: str = "",
        dead_letter_suffix: str = ".dlq",
    ) -> None:
        self._routes = dict(routes or {})
        for pattern in self._routes:
            type_matcher(pattern)  # validate early
        self._prefix = prefix
        self._dead_letter_suffix = dead_letter_suffix
        self._cache: dict[str, str] = {}

    def channel_for(self, event_type: str) -> str:
        """The channel an event of ``event_type`` is published to."""
        channel = self._cache.get(event_type)
        if channel is None:
            channel = self._prefix + event_type
            for pattern, target in self._routes.items():
                if type_matcher(pattern)(event_type):
                    channel = target
                    break
            if len(self._cache) < 4096:
                self._cache[event_type] = channel
        return channel

    def route(self, pattern: str) -> Route:
        """Where a subscriber of a type (or type pattern) listens."""
        matcher = type_matcher(pattern)
        if pattern in self._routes:
            return Route(self._routes[pattern], None if pattern == "*" else matcher)
        if not is_pattern(pattern):
            channel = self.channel_for(pattern)
            shared = channel != self._prefix + pattern
            return Route(channel, matcher if shared else None)
        for route_pattern, target in self._routes.items():
            if _covers(route_pattern, pattern):
                return Route(target, matcher)
        return Route(self._prefix + pattern, None)

    def dead_letter_channel(self, channel: str) -> str:
        return channel + self._dead_letter_suffix

    def __repr__(self) -> str:
        return f"Router(routes={self._routes!r}, prefix={self._prefix!r})"


def _covers(outer: str, inner: str) -> bool:
    """Whether every type matching ``inner`` also matches ``outer`` (token-wise)."""
    a, b = outer.split("."), inner.split(".")
    for i, tok in enumerate(a):
        if tok == ">":
            return len(b) > i
        if i >= len(b):
            return False
        if tok == "*":
            if b[i] == ">":
                return False
            continue
        if tok != b[i]:
            return False
    return len(a) == len(b)
