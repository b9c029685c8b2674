"""``SqsDelivery``: one received SQS message handed to the bus (the Delivery protocol)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from eventbus.adapter import DeadLetter, Message

if TYPE_CHECKING:
    from eventbus_aws._subscription import SqsSubscription

__all__ = ["MAX_VISIBILITY", "SqsDelivery"]

#: The longest visibility timeout (and so redelivery delay) SQS accepts: 12 hours.
MAX_VISIBILITY = 43_200


class SqsDelivery:
    """A received message. Settling it twice, or after its subscription gave it back, does
    nothing.

    ``ack`` deletes it (``DeleteMessageBatch``, shared by the acks of one loop iteration).
    ``nack(delay)`` sets its visibility timeout to ``delay`` (``ChangeMessageVisibility``), after
    which SQS delivers it again; visibility is whole seconds, so the fraction is waited here
    first, holding the handler slot (as the bus's own emulation would), and delays are capped at
    12 hours. ``extend`` sets the visibility timeout to the ack wait again (lock renewal).
    ``attempt`` is SQS's ``ApproximateReceiveCount``.
    """

    __slots__ = ("_sub", "attempt", "message", "receipt", "settled")

    def __init__(self, message: Message, attempt: int, receipt: str, sub: SqsSubscription) -> None:
        self.message = message
        self.attempt = attempt
        self.receipt = receipt
        self.settled = False
        self._sub = sub

    async def ack(self) -> None:
        if not self.settled:
            self.settled = True
            await self._sub.delete(self)

    async def nack(self, delay: float | None = None) -> None:
        if self.settled:
            return
        seconds = 0
        if delay is not None and delay > 0:
            seconds = min(int(delay), MAX_VISIBILITY)
            fraction = delay - int(delay)
            if fraction > 0 and seconds < MAX_VISIBILITY:
                await asyncio.sleep(fraction)
                if self.settled:  # the subscription gave it back meanwhile
                    return
        self.settled = True
        await self._sub.give_back(self, seconds)

    async def dead_letter(self, dead: DeadLetter) -> None:
        if not self.settled:
            await self._sub.dead_letter(self, dead)

    async def extend(self) -> None:
        if not self.settled:
            await self._sub.extend(self)

    def __repr__(self) -> str:
        state = "settled" if self.settled else "received"
        return f"<SqsDelivery attempt={self.attempt} {state} {self.message!r:.60}>"
