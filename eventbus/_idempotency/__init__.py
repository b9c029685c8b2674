"""Idempotent consumption: the store contract, four stores and the consume middleware.

The Redis and PostgreSQL stores import their drivers when constructed, so the core installs and
imports without them (``pip install "eventbus[redis]"`` / ``"eventbus[postgres]"``).
"""

from eventbus._idempotency._middleware import (
    Claim,
    Idempotency,
    IdempotencyStats,
    current_claim,
    default_key,
)
from eventbus._idempotency._postgres import PostgresIdempotencyStore
from eventbus._idempotency._redis import RedisIdempotencyStore
from eventbus._idempotency._sqlite import SqliteIdempotencyStore
from eventbus._idempotency._store import (
    DEFAULT_RETENTION,
    ClaimStatus,
    IdempotencyStore,
    MemoryIdempotencyStore,
)

__all__ = [
    "DEFAULT_RETENTION",
    "Claim",
    "ClaimStatus",
    "Idempotency",
    "IdempotencyStats",
    "IdempotencyStore",
    "MemoryIdempotencyStore",
    "PostgresIdempotencyStore",
    "RedisIdempotencyStore",
    "SqliteIdempotencyStore",
    "current_claim",
    "default_key",
]
