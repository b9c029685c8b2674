"""The idempotency store contract, and the in-process store.

A store keeps one record per idempotency key: *in progress* (claimed by an owner until a lease
runs out) or *done* (committed, kept for the retention window). The consume middleware claims
the key before the handler runs, commits it after the handler succeeds and releases it when the
handler fails, so that exactly one worker runs the handler for a key at a time and none runs it
again once it is done. A worker that dies holding a claim leaves it to expire with its lease.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from eventbus._errors import ConfigurationError

__all__ = [
    "DEFAULT_RETENTION",
    "ClaimStatus",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "check_lease",
    "check_retention",
]

#: Seconds a committed key is remembered by default: a week, longer than any broker keeps an
#: unacked message, so a late redelivery is still recognised.
DEFAULT_RETENTION = 7 * 24 * 3600.0


class ClaimStatus(enum.Enum):
    """What :meth:`IdempotencyStore.claim` found."""

    CLAIMED = "claimed"  # the caller holds the key now: run the handler
    DUPLICATE = "duplicate"  # already done within the retention window: skip it
    IN_PROGRESS = "in-progress"  # another owner holds an unexpired claim: wait or retry later


@runtime_checkable
class IdempotencyStore(Protocol):
    """Where idempotency keys are claimed and remembered. Every method is safe to call from
    many tasks (and, for the SQLite, Redis and PostgreSQL stores, many processes) at once.

    ``owner`` is a token unique to one handler run; ``lease`` and ``retention`` are seconds.
    """

    @property
    def retention(self) -> float:
        """Seconds a committed key is remembered; older ones may be claimed again."""
        ...

    async def claim(self, key: str, owner: str, lease: float) -> ClaimStatus:
        """Claim ``key`` for ``owner`` until ``lease`` seconds from now.

        CLAIMED when there is no record, the record is a claim whose lease ran out (its owner
        crashed), a claim of the same owner, or a done record older than the retention window.
        """
        ...

    async def extend(self, key: str, owner: str, lease: float) -> bool:
        """Push ``owner``'s claim back to ``lease`` seconds from now. False if it was lost."""
        ...

    async def commit(self, key: str, owner: str) -> None:
        """Mark ``key`` done (the handler succeeded), whoever holds the claim now."""
        ...

    async def release(self, key: str, owner: str) -> None:
        """Drop ``owner``'s claim (the handler failed) so that a retry can claim the key.

        Does nothing if ``owner`` no longer holds it or the key is done."""
        ...

    async def cleanup(self) -> int:
        """Delete done records past the retention window and long-abandoned claims.

        Returns how many records were deleted (stores whose records expire by themselves,
        like Redis, return 0)."""
        ...

    async def close(self) -> None: ...


def check_lease(lease: float) -> float:
    if not lease > 0:
        raise ConfigurationError(f"the claim lease must be > 0 seconds, got {lease!r}")
    return float(lease)


def check_retention(retention: float) -> float:
    if not retention > 0:
        raise ConfigurationError(f"retention must be > 0 seconds, got {retention!r}")
    return float(retention)


@dataclass(slots=True)
class _Record:
    owner: str | None
    done: bool
    until: float  # lease end for a claim, end of retention for a done record


class MemoryIdempotencyStore:
    """An in-process store: one dict, for tests and single-process consumers.

    Records are lost with the process; use the SQLite store (embedded) or Redis / PostgreSQL
    (shared between hosts) when consumers restart or run in several processes.
    """

    def __init__(
        self, *, retention: float = DEFAULT_RETENTION, clock: Callable[[], float] | None = None
    ) -> None:
        self._retention = check_retention(retention)
        self._records: dict[str, _Record] = {}
        self._now = clock or time.monotonic

    def __repr__(self) -> str:
        return f"MemoryIdempotencyStore(records={len(self._records)})"

    @property
    def retention(self) -> float:
        return self._retention

    def __len__(self) -> int:
        return len(self._records)

    async def claim(self, key: str, owner: str, lease: float) -> ClaimStatus:
        now = self._now()
        record = self._records.get(key)
        if record is not None and record.until > now and record.owner != owner:
            return ClaimStatus.DUPLICATE if record.done else ClaimStatus.IN_PROGRESS
        if record is not None and record.done and record.until > now:
            return ClaimStatus.DUPLICATE
        self._records[key] = _Record(owner, False, now + lease)
        return ClaimStatus.CLAIMED

    async def extend(self, key: str, owner: str, lease: float) -> bool:
        record = self._records.get(key)
        if record is None or record.done or record.owner != owner:
            return False
        record.until = self._now() + lease
        return True

    async def commit(self, key: str, owner: str) -> None:
        self._records[key] = _Record(None, True, self._now() + self._retention)

    async def release(self, key: str, owner: str) -> None:
        record = self._records.get(key)
        if record is not None and not record.done and record.owner == owner:
            del self._records[key]

    async def cleanup(self) -> int:
        now = self._now()
        stale = [k for k, r in self._records.items() if r.until <= now]
        for key in stale:
            del self._records[key]
        return len(stale)

    async def close(self) -> None:
        return None
