"""What an outbox row holds, and the contract the relay needs from an outbox table.

A row is one event in the CloudEvents JSON format (binding-independent: the relay encodes it for
whichever broker it publishes to), the channel it goes to and its partition key. Rows are
relayed in ``id`` order and marked sent, never deleted until :meth:`OutboxStore.cleanup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from eventbus._bus._router import Router
from eventbus._wire._event import Event
from eventbus._wire._format import to_json

__all__ = ["OutboxRow", "OutboxStore", "row_values"]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    id: int
    channel: str
    partition_key: str | None
    body: bytes  # the event in the JSON event format


def row_values(
    event: Event[Any], router: Router, channel: str | None
) -> tuple[str, str | None, str, bytes]:
    """(channel, partition key, event id, JSON body) of ``event``; raises if not encodable."""
    key = event.extensions.get("partitionkey") if event.extensions else None
    return (
        channel or router.channel_for(event.type),
        key if isinstance(key, str) else None,
        event.id,
        to_json(event),
    )


@runtime_checkable
class OutboxStore(Protocol):
    """The relay's side of an outbox table (SQLite and PostgreSQL implement it)."""

    @property
    def name(self) -> str:
        """What to call it in logs and errors (a redacted URL or a file path)."""
        ...

    async def ensure_schema(self) -> None: ...

    async def acquire(self, relay: str, owner: str, lease: float) -> bool:
        """Become (or stay) the one relay named ``relay`` for ``lease`` seconds; False if
        another owner holds it. One relay at a time keeps the per-partition-key order."""
        ...

    async def release(self, relay: str, owner: str) -> None: ...

    async def fetch(self, limit: int) -> list[OutboxRow]:
        """Up to ``limit`` unsent rows, lowest id first."""
        ...

    async def mark_sent(self, ids: list[int]) -> None: ...

    async def pending(self) -> int:
        """How many rows are not sent yet."""
        ...

    async def cleanup(self, older_than: float) -> int:
        """Delete rows sent more than ``older_than`` seconds ago; returns how many."""
        ...

    async def close(self) -> None: ...
