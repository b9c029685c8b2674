"""One dead letter as read from the dead-letter channel, and the filter that selects them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec

from eventbus._adapter._contract import Delivery
from eventbus._bus._consumer import DEAD_LETTER_ATTRIBUTES
from eventbus._bus._router import type_matcher
from eventbus._errors import DecodeError, EventBusError
from eventbus._wire._event import Event
from eventbus._wire._message import Message
from eventbus._wire._types import parse_time

__all__ = ["DeadLetterEntry", "DeadLetterFilter"]

_read_json = msgspec.json.Decoder().decode


def _body_attributes(message: Message) -> Mapping[str, Any]:
    """The members of a JSON-object body (a structured-mode message that is not a valid
    CloudEvent still carries its ``deadletter*`` attributes there)."""
    body = message.body
    if body.lstrip()[:1] != b"{":
        return {}
    try:
        parsed = _read_json(body)
    except (msgspec.DecodeError, UnicodeDecodeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


@dataclass(frozen=True)
class DeadLetterEntry:
    """One dead letter: the event (None if it is not a valid CloudEvent) and why it died.

    ``message`` is the dead letter as stored. ``delivery`` is set when it was taken from the
    broker (adapters that cannot browse, and replay there), ``ref`` when it was browsed.
    """

    message: Message = field(repr=False)
    event: Event[Any] | None
    problem: str | None = None  # why ``event`` is None
    delivery: Delivery | None = field(default=None, repr=False, compare=False)
    ref: Any = field(default=None, repr=False, compare=False)
    _body: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.event is None:
            object.__setattr__(self, "_body", _body_attributes(self.message))

    def attribute(self, name: str) -> str | None:
        if self.event is not None:
            value = self.event.extensions.get(name)
            return None if value is None else str(value)
        headers = self.message.headers
        for key in (f"ce-{name}", f"cloudEvents_{name}", f"cloudEvents:{name}"):
            value = headers.get(key)
            if value is not None:
                return value.decode() if isinstance(value, bytes) else str(value)
        found = self._body.get(name)
        if isinstance(found, bool):
            return "true" if found else "false"
        return str(found) if isinstance(found, str | int) else None

    @property
    def id(self) -> str | None:
        return self.event.id if self.event is not None else self.attribute("id")

    @property
    def type(self) -> str | None:
        return self.event.type if self.event is not None else self.attribute("type")

    @property
    def reason(self) -> str | None:
        return self.attribute("deadletterreason")

    @property
    def channel(self) -> str | None:
        """The channel the event was consumed from (where replay sends it)."""
        return self.attribute("deadletterchannel")

    @property
    def time(self) -> datetime | None:
        text = self.attribute("deadlettertime")
        if text is None:
            return None
        try:
            return parse_time(text)
        except (ValueError, EventBusError):
            return None

    def original(self) -> Event[Any]:
        """The event as first published: without the ``deadletter*`` attributes."""
        if self.event is None:
            raise DecodeError(f"not a valid CloudEvent: {self.problem}")
        kept = {k: v for k, v in self.event.extensions.items() if k not in DEAD_LETTER_ATTRIBUTES}
        return self.event.replace(extensions=kept)


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters to select. ``types``: an event type or type pattern."""

    types: str | None = None
    since: datetime | None = None
    reason: str | None = None
    event_id: str | None = None
    limit: int | None = None

    def matches(self, entry: DeadLetterEntry) -> bool:
        if self.types is not None:
            kind = entry.type
            if kind is None or not type_matcher(self.types)(kind):
                return False
        if self.reason is not None and entry.reason != self.reason:
            return False
        if self.event_id is not None and entry.id != self.event_id:
            return False
        if self.since is not None:
            when = entry.time
            if when is None or when < self.since:
                return False
        return True
