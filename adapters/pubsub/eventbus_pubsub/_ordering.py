"""One message per ordering key in the bus at a time, the next one handed over when it settles.

Pub/Sub delivers the messages of an ordering key in order but may hand several of them out at
once; the bus runs up to ``max_in_flight`` handlers concurrently, so the adapter passes them on
one at a time. When the one in the bus is nacked, the ones waiting behind it are given back too:
Pub/Sub then redelivers the key from the nacked message on, in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from eventbus_pubsub._delivery import PubSubDelivery

__all__ = ["OrderingGate"]


@dataclass(eq=False)
class _KeyLine:
    active: PubSubDelivery  # the one the bus has
    waiting: deque[PubSubDelivery] = field(default_factory=deque)


class OrderingGate:
    def __init__(self) -> None:
        self._lines: dict[str, _KeyLine] = {}

    def admit(self, delivery: PubSubDelivery) -> bool:
        """True if ``delivery`` may go to the bus now; else it waits for its key."""
        key = delivery.message.key
        if key is None:
            return True
        line = self._lines.get(key)
        if line is None:
            self._lines[key] = _KeyLine(delivery)
            return True
        line.waiting.append(delivery)
        return False

    def settled(
        self, delivery: PubSubDelivery, ok: bool
    ) -> tuple[PubSubDelivery | None, list[PubSubDelivery]]:
        """After ``delivery`` settled: the next one of its key for the bus, and the ones to give
        back (all that waited behind it, when it was not acked)."""
        key = delivery.message.key
        if key is None:
            return None, []
        line = self._lines.get(key)
        if line is None or line.active is not delivery:
            return None, []
        if ok and line.waiting:
            line.active = line.waiting.popleft()
            return line.active, []
        del self._lines[key]
        return None, list(line.waiting)

    def clear(self) -> None:
        self._lines.clear()
