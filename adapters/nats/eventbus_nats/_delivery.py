"""What the adapter hands to the bus: one ``Delivery`` per received message.

A JetStream delivery settles through the message's ``$JS.ACK...`` reply subject: ``+ACK``,
``-NAK`` (with a delay), ``+WPI`` (in progress) and, after a dead letter is stored, ``+TERM``.
Settling twice, or after the subscription gave the message back, does nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from eventbus.adapter import DeadLetter, Message

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = ["ACK", "NAK", "PROGRESS", "TERM", "CoreDelivery", "JetStreamDelivery", "ack_fields"]

ACK, NAK, PROGRESS, TERM = b"+ACK", b"-NAK", b"+WPI", b"+TERM"


def ack_fields(reply: str) -> tuple[int, int]:
    """(delivery count, stream sequence) from a ``$JS.ACK.`` reply subject."""
    tokens = reply.split(".")
    if len(tokens) == 9:  # $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>
        return int(tokens[4]), int(tokens[5])
    # $JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ts>.<pending>...
    return int(tokens[6]), int(tokens[7])


class _Owner(Protocol):
    def send(self, reply: str, payload: bytes) -> Awaitable[None]: ...

    def settled(self, delivery: JetStreamDelivery, final: bool) -> None: ...

    def dead_letter(self, delivery: JetStreamDelivery, dead: DeadLetter) -> Awaitable[None]: ...


class JetStreamDelivery:
    """A message from a JetStream consumer (the ``Delivery`` protocol)."""

    __slots__ = ("attempt", "done", "message", "owner", "reply", "sequence")

    def __init__(self, message: Message, reply: str, owner: _Owner) -> None:
        self.message = message
        self.reply = reply
        self.owner = owner
        self.attempt, self.sequence = ack_fields(reply)
        self.done = False

    async def ack(self) -> None:
        if not self.done:
            self.done = True
            self.owner.settled(self, True)
            await self.owner.send(self.reply, ACK)

    async def nack(self, delay: float | None = None) -> None:
        if not self.done:
            self.done = True
            self.owner.settled(self, False)
            payload = NAK
            if delay is not None and delay > 0:
                payload = b'-NAK {"delay":%d}' % int(delay * 1e9)
            await self.owner.send(self.reply, payload)

    async def dead_letter(self, dead: DeadLetter) -> None:
        if not self.done:
            await self.owner.dead_letter(self, dead)

    async def extend(self) -> None:
        if not self.done:
            await self.owner.send(self.reply, PROGRESS)

    def __repr__(self) -> str:
        state = "settled" if self.done else "open"
        return f"<JetStreamDelivery seq={self.sequence} attempt={self.attempt} {state}>"


class CoreDelivery:
    """A core NATS message: nothing to settle, the broker does not redeliver."""

    __slots__ = ("message",)

    def __init__(self, message: Message) -> None:
        self.message = message

    @property
    def attempt(self) -> int:
        return 1

    async def ack(self) -> None:
        return None

    async def nack(self, delay: float | None = None) -> None:
        return None

    async def dead_letter(self, dead: DeadLetter) -> None:
        raise NotImplementedError("core NATS has no dead-letter support; the bus publishes")

    async def extend(self) -> None:
        return None

    def __repr__(self) -> str:
        return f"<CoreDelivery {self.message!r:.60}>"
