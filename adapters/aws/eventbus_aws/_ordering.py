"""One message per partition key in the bus at a time (a safety net for FIFO queues).

SQS FIFO queues never hand out a message of a group while another of that group is in flight,
so on AWS this gate never holds anything back. Local servers are looser (moto decides which
groups are in flight when a long poll starts, so a poll that began earlier can return the next
message of a group): when a second message of a key arrives while one is in the bus, it waits
here; when the one in the bus is nacked, the ones waiting behind it are given back too, so the
queue hands the key out again in order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from eventbus_aws._delivery import SqsDelivery

__all__ = ["OrderingGate"]


@dataclass(eq=False)
class _KeyLine:
    active: SqsDelivery  # the one the bus has
    waiting: deque[SqsDelivery] = field(default_factory=deque)


class OrderingGate:
    def __init__(self) -> None:
        self._lines: dict[str, _KeyLine] = {}

    def admit(self, delivery: SqsDelivery) -> bool:
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
        self, delivery: SqsDelivery, ok: bool
    ) -> tuple[SqsDelivery | None, list[SqsDelivery]]:
        """After ``delivery`` settled: the next one of its key for the bus, and the ones to give
        back (all that waited behind it, when it was not acked)."""
        key = delivery.message.key
        line = self._lines.get(key) if key is not None else None
        if line is None or line.active is not delivery:
            return None, []
        if ok and line.waiting:
            line.active = line.waiting.popleft()
            return line.active, []
        del self._lines[key]  # type: ignore[arg-type]
        return None, list(line.waiting)
