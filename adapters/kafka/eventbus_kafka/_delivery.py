"""What the adapter hands to the bus: one ``KafkaDelivery`` per record, and the retry headers.

Kafka has no per-record acknowledgement: settling a delivery tells its subscription that the
record's offset may be committed (once every earlier one is settled too). ``nack`` moves the
record to a retry topic (the subscription's group, the next attempt and the due time travel
as headers) and ``dead_letter`` to the dead-letter topic; either is settled only once the
brokers have the copy. Settling twice, or after the partition moved to another member, does
nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from eventbus.adapter import DeadLetter, Message

if TYPE_CHECKING:
    from collections.abc import Awaitable

__all__ = [
    "ATTEMPT_HEADER",
    "DUE_HEADER",
    "GROUP_HEADER",
    "INTERNAL_HEADERS",
    "KafkaDelivery",
    "message_of",
]

#: Headers of a retry copy: for which group, which attempt, when due (epoch milliseconds).
GROUP_HEADER = "eventbus-retry-group"
ATTEMPT_HEADER = "eventbus-attempt"
DUE_HEADER = "eventbus-retry-due"
INTERNAL_HEADERS = frozenset({GROUP_HEADER, ATTEMPT_HEADER, DUE_HEADER})


class _Owner(Protocol):
    def settled(self, delivery: KafkaDelivery) -> None: ...

    def retry(self, delivery: KafkaDelivery, delay: float) -> Awaitable[None]: ...

    def move_dead(self, delivery: KafkaDelivery, dead: DeadLetter) -> Awaitable[None]: ...


class KafkaDelivery:
    """A record from a subscribed partition (the ``Delivery`` protocol)."""

    __slots__ = ("attempt", "done", "message", "offset", "owner", "partition", "topic")

    def __init__(
        self,
        owner: _Owner,
        message: Message,
        attempt: int,
        topic: str,
        partition: int,
        offset: int,
    ) -> None:
        self.owner = owner
        self.message = message
        self.attempt = attempt
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.done = False

    async def ack(self) -> None:
        if not self.done:
            self.done = True
            self.owner.settled(self)

    async def nack(self, delay: float | None = None) -> None:
        if not self.done:
            self.done = True
            await self.owner.retry(self, delay or 0.0)

    async def dead_letter(self, dead: DeadLetter) -> None:
        if not self.done:
            await self.owner.move_dead(self, dead)  # raises when the copy was not stored
            self.done = True
            self.owner.settled(self)

    async def extend(self) -> None:
        return None  # nothing to renew: no timer redelivers a record in flight

    def __repr__(self) -> str:
        state = "settled" if self.done else "open"
        return (
            f"<KafkaDelivery {self.topic}[{self.partition}]@{self.offset} "
            f"attempt={self.attempt} {state}>"
        )


def message_of(record: Any) -> tuple[Message, dict[str, str]]:
    """A record as a Message (header values as librdkafka gives them: bytes, which the Kafka
    binding reads as UTF-8) and its internal retry headers apart, as text."""
    raw = record.headers()
    headers: dict[str, Any] = dict(raw) if raw else {}
    internal: dict[str, str] = {}
    if not INTERNAL_HEADERS.isdisjoint(headers):
        for name in INTERNAL_HEADERS & headers.keys():
            value = headers.pop(name)
            internal[name] = value.decode("utf-8", "replace") if isinstance(value, bytes) else ""
    key = record.key()
    if isinstance(key, bytes):
        try:
            key = key.decode("utf-8")
        except UnicodeDecodeError:
            key = None
    return Message(headers, record.value() or b"", key), internal
