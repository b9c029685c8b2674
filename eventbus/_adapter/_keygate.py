"""``OrderingGate``: one delivery per ordering key in the bus at a time (exported by
:mod:`eventbus.adapter`).

Some brokers hand out several messages of one key at once (Pub/Sub ordering keys) or, on local
test servers, may do so (SQS FIFO groups on moto), while the bus runs up to ``max_in_flight``
handlers concurrently. An adapter passes each key's deliveries on one at a time through this gate;
when the one in the bus is nacked, the ones waiting behind it are given back too, so the broker
redelivers the key from the nacked message on, in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from eventbus._adapter._contract import Delivery

__all__ = ["OrderingGate"]

D = TypeVar("D", bound=Delivery)


@dataclass(eq=False)
class _KeyLine(Generic[D]):
    active: D  # the one the bus has
    waiting: deque[D] = field(default_factory=deque)


class OrderingGate(Generic[D]):
    """Per-key order for an adapter whose broker hands out several messages of one partition
    key at once: :meth:`admit` lets the first of a key through and holds the rest; :meth:`settled`
    releases the next once it was acked, or gives back all that waited when it was not."""

    def __init__(self) -> None:
        self._lines: dict[str, _KeyLine[D]] = {}

    def admit(self, delivery: D) -> bool:
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

    def settled(self, delivery: D, ok: bool) -> tuple[D | None, list[D]]:
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
