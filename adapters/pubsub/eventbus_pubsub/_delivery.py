"""``PubSubDelivery``: one received Pub/Sub message handed to the bus (the Delivery protocol)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from eventbus.adapter import DeadLetter, Message
from eventbus_pubsub._acks import PubSubAckError

if TYPE_CHECKING:
    from eventbus_pubsub._subscription import PubSubSubscription

__all__ = ["MAX_ACK_DEADLINE", "PubSubDelivery"]

#: The longest ack deadline (and so redelivery delay) Pub/Sub accepts, in seconds.
MAX_ACK_DEADLINE = 600


class PubSubDelivery:
    """A leased message. Settling it twice, or after its subscription closed, does nothing.

    ``nack(delay)``: Pub/Sub has no nack-with-delay, but an ack deadline of ``delay`` seconds
    makes the message come back after that long (the subscription's retry policy, if any, may add
    to it). Deadlines are whole seconds: the fraction is waited here first, holding the handler
    slot (as the bus's own emulation would); delays above 600 s are cut to 600 s.

    ``ack()`` with exactly-once delivery returns once Pub/Sub confirmed the ack (transient
    failures are retried meanwhile) and raises :class:`PubSubAckError` if it did not: the message
    was not acked and comes back.
    """

    __slots__ = (
        "_leased",
        "_sub",
        "ack_id",
        "attempt",
        "handed",
        "message",
        "message_id",
        "size",
        "touched",
    )

    def __init__(
        self,
        message: Message,
        attempt: int,
        ack_id: str,
        sub: PubSubSubscription,
        size: int,
        now: float,
        message_id: str = "",
    ) -> None:
        self.message = message
        self.attempt = attempt
        self.ack_id = ack_id
        self.message_id = message_id  # Pub/Sub's
        self.size = size
        self.touched = now  # when its ack deadline was last set (for the adapter's leaser)
        self.handed = False  # taken by the bus (whose lock renewal then extends it)
        self._sub = sub
        self._leased = True

    @property
    def leased(self) -> bool:
        return self._leased

    def settle(self) -> bool:
        """Mark settled; False if it already was."""
        if not self._leased:
            return False
        self._leased = False
        return True

    async def ack(self) -> None:
        if self._leased:
            self._leased = False
            waiter = self._sub.acked(self)
            if waiter is not None:
                failure = await waiter
                if failure is not None:
                    raise PubSubAckError(self._sub.state.path, self.message_id, failure)

    async def nack(self, delay: float | None = None) -> None:
        if not self._leased:
            return
        seconds = 0
        if delay is not None and delay > 0:
            seconds = min(int(delay), MAX_ACK_DEADLINE)
            fraction = delay - int(delay)
            if fraction > 0 and seconds < MAX_ACK_DEADLINE:
                await asyncio.sleep(fraction)
                if not self._leased:  # the subscription closed meanwhile (and nacked it)
                    return
        self._leased = False
        self._sub.nacked(self, seconds)

    async def dead_letter(self, dead: DeadLetter) -> None:
        if self._leased:
            await self._sub.dead_letter(self, dead)

    async def extend(self) -> None:
        if self._leased:
            self._sub.extend(self)

    def __repr__(self) -> str:
        state = "leased" if self._leased else "settled"
        return f"<PubSubDelivery attempt={self.attempt} {state} {self.message!r:.60}>"
