"""``Message``: what adapters move. Headers plus body, and two transport hints.

Bindings produce and read messages (pure functions, see ``_bindings``); adapters translate them
to and from their broker's native message. Adapters never see an ``Event``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

__all__ = ["HeaderValue", "Message"]

# str everywhere; AMQP application properties also carry native bool/int/bytes/timestamps.
HeaderValue = str | bool | int | bytes | datetime
"""A header value as a broker carries it: text, a typed AMQP/Kafka value, or raw bytes."""


class Message(msgspec.Struct, frozen=True):
    """A transport message.

    ``headers``: binding headers (``ce-*`` for NATS/Pub/Sub/memory, ``cloudEvents_*`` plus
    ``content-type`` for AMQP). ``body``: the payload bytes. ``key``: the ordering/partition key
    (from the event's ``partitionkey`` extension), if any. ``dedupe_id``: an id for the broker's
    own duplicate detection (the event id), if any. A msgspec Struct: cheap to build and copy.
    """

    headers: Mapping[str, HeaderValue]
    body: bytes
    key: str | None = None
    dedupe_id: str | None = None

    def size(self) -> int:
        """Approximate wire size: body plus header names and values."""
        headers = self.headers
        try:
            return len(self.body) + sum(map(len, headers)) + sum(map(len, headers.values()))  # type: ignore[arg-type]
        except TypeError:  # AMQP: some values are native bool/int/timestamps
            total = len(self.body)
            for name, value in headers.items():
                total += len(name) + (len(value) if isinstance(value, str | bytes) else 8)
            return total
