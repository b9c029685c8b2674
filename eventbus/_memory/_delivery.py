"""What the queue hands out: ``MemoryDelivery`` (the ``Delivery`` protocol) and ``Consumer``."""

from __future__ import annotations

import random
from collections import deque
from typing import TYPE_CHECKING, ClassVar

from eventbus._adapter._contract import DeadLetter, Limits
from eventbus._memory._faults import MemoryFaults
from eventbus._wire._message import Message

if TYPE_CHECKING:
    from eventbus._memory._queue import Queue

__all__ = ["DONE", "LEASED", "QUEUED", "Consumer", "DuplicateDelivery", "MemoryDelivery"]

QUEUED, LEASED, DONE = 0, 1, 2


class Consumer:
    """The broker-side state of one subscription: its leases and its fault draws."""

    __slots__ = ("ack_wait", "crash", "duplicate", "inflight", "limits", "reorder", "rng")

    def __init__(
        self, ack_wait: float, faults: MemoryFaults, rng: random.Random, limits: Limits
    ) -> None:
        self.ack_wait = ack_wait
        self.inflight: deque[MemoryDelivery] = deque()
        self.rng = rng
        self.limits = limits
        self.duplicate = faults.duplicate
        self.reorder = faults.reorder
        self.crash = faults.crash_before_ack


class MemoryDelivery:
    """One hand-over of a message (implements the ``Delivery`` protocol).

    A redelivery is a new object with ``attempt + 1``; settling an expired or returned delivery
    (a late ack) does nothing, and so does settling twice.
    """

    __slots__ = ("_consumer", "_deadline", "_queue", "_state", "attempt", "message")

    #: True for the copy made by the ``duplicate`` fault (a copy is not duplicated again).
    duplicate: ClassVar[bool] = False
    # Set when leased, and only read while leased (the hot path skips initialising them).
    _consumer: Consumer
    _deadline: float

    def __init__(self, message: Message, attempt: int, queue: Queue) -> None:
        self.message = message
        self.attempt = attempt
        self._queue = queue
        self._state = QUEUED

    def again(self) -> MemoryDelivery:
        """The next delivery of the same message (same kind, attempt + 1)."""
        return self.__class__(self.message, self.attempt + 1, self._queue)

    @property
    def leased(self) -> bool:
        """True while this delivery is handed out and not yet settled, expired or returned."""
        return self._state == LEASED

    async def ack(self) -> None:
        if self._state == LEASED:
            self._queue.ack(self)

    async def nack(self, delay: float | None = None) -> None:
        if self._state == LEASED:
            self._queue.nack(self, delay)

    async def dead_letter(self, dead: DeadLetter) -> None:
        if self._state == LEASED:
            await self._queue.broker.dead_letter(self, dead)

    async def extend(self) -> None:
        if self._state == LEASED:
            self._queue.extend(self)

    def __repr__(self) -> str:
        state = ("queued", "leased", "done")[self._state]
        return f"<{type(self).__name__} attempt={self.attempt} {state} {self.message!r:.60}>"


class DuplicateDelivery(MemoryDelivery):
    """A second delivery of a message, injected by the ``duplicate`` fault."""

    __slots__ = ()
    duplicate: ClassVar[bool] = True
