"""One record per key in the bus at a time, for subscriptions that asked for key order.

Kafka keeps a key's records in order in its partition, but the bus runs up to
``max_in_flight`` handlers at once: the gate hands a key's next record over only when the one
before it settled (a retry keeps its place: the key waits for it).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from eventbus_kafka._delivery import KafkaDelivery

__all__ = ["KeyGate"]


class _Line:
    __slots__ = ("active", "waiting")

    def __init__(self, active: KafkaDelivery) -> None:
        self.active = active
        self.waiting: deque[KafkaDelivery] = deque()


class KeyGate:
    def __init__(self) -> None:
        self._lines: dict[str, _Line] = {}

    def __len__(self) -> int:
        """Records waiting behind their key."""
        return sum(len(line.waiting) for line in self._lines.values())

    def admit(self, delivery: KafkaDelivery) -> bool:
        """True if ``delivery`` may go to the bus now; else it waits for its key."""
        key = delivery.message.key
        if key is None:
            return True
        line = self._lines.get(key)
        if line is None:
            self._lines[key] = _Line(delivery)
            return True
        line.waiting.append(delivery)
        return False

    def next_after(self, delivery: KafkaDelivery) -> KafkaDelivery | None:
        """``delivery`` settled: the next record of its key for the bus, if any."""
        key = delivery.message.key
        line = self._lines.get(key) if key is not None else None
        if line is None or line.active is not delivery:
            return None
        if line.waiting:
            line.active = line.waiting.popleft()
            return line.active
        del self._lines[key]  # type: ignore[arg-type]
        return None

    def replace(self, old: KafkaDelivery, new: KafkaDelivery) -> None:
        """``new`` (a retry of ``old``) holds the key now."""
        key = old.message.key
        line = self._lines.get(key) if key is not None else None
        if line is not None and line.active is old:
            line.active = new

    def forget(self, gone: Callable[[KafkaDelivery], bool]) -> None:
        """Drop the lines of records whose partition went to another member."""
        for key, line in list(self._lines.items()):
            if gone(line.active):
                del self._lines[key]
            else:
                line.waiting = deque(d for d in line.waiting if not gone(d))
