"""``PostgresIdempotencyStore``: keys in a PostgreSQL table, shared by consumers on many hosts.

A claim is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the record is free, atomic under
concurrency; times come from the server's clock (``clock_timestamp()``) so hosts whose clocks
differ agree on when a lease ends. ``commit_with`` writes a handler's side effect and the commit
in one transaction. Needs ``pip install "eventbus[postgres]"`` (psycopg 3).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from eventbus._errors import ClaimLostError, ConfigurationError, redact_url
from eventbus._idempotency._middleware import current_claim
from eventbus._idempotency._store import DEFAULT_RETENTION, ClaimStatus, check_retention
from eventbus._store._dbutil import check_table_name
from eventbus._store._pgpool import PgPool

__all__ = ["PostgresIdempotencyStore"]

T = TypeVar("T")
_NOW = "clock_timestamp()"
_SECONDS = "make_interval(secs => {})"


class PostgresIdempotencyStore:
    """Idempotency keys in PostgreSQL: ``PostgresIdempotencyStore("postgresql://u:p@h/db")``.

    The table (default ``eventbus_idempotency``) is created on first use. ``pool_size``
    connections at most. Done records past ``retention`` are deleted by :meth:`cleanup` (run it
    from a periodic job, or let the store do it at most once an hour during claims).
    """

    def __init__(
        self,
        url: str,
        *,
        table: str = "eventbus_idempotency",
        retention: float = DEFAULT_RETENTION,
        pool_size: int = 4,
    ) -> None:
        self._table = t = check_table_name(table)
        self._retention = check_retention(retention)
        self._pool = PgPool(url, size=pool_size, what="postgres idempotency store")
        self._url = redact_url(url)
        self._ready = False
        self._next_cleanup: float | None = None
        self._sql_claim = (
            f"INSERT INTO {t} AS cur (key, owner, state, until) "
            f"VALUES (%(key)s, %(owner)s, 0, {_NOW} + {_SECONDS.format('%(lease)s')}) "
            "ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, state = 0, "
            "until = excluded.until "
            f"WHERE cur.until <= {_NOW} OR (cur.state = 0 AND cur.owner = excluded.owner) "
            "RETURNING cur.state"
        )
        self._sql_commit = (
            f"INSERT INTO {t} AS cur (key, owner, state, until) "
            f"VALUES (%(key)s, NULL, 1, {_NOW} + {_SECONDS.format('%(retention)s')}) "
            "ON CONFLICT (key) DO UPDATE SET owner = NULL, state = 1, until = excluded.until"
        )

    def __repr__(self) -> str:
        return f"PostgresIdempotencyStore({self._url!r})"

    @property
    def retention(self) -> float:
        return self._retention

    async def _ensure_schema(self, conn: Any) -> None:
        if self._ready:
            return
        t = self._table
        await self._pool.create_schema(
            conn,
            f"CREATE TABLE IF NOT EXISTS {t} (key TEXT PRIMARY KEY, owner TEXT, "
            "state SMALLINT NOT NULL, until TIMESTAMPTZ NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_until ON {t} (until)",
        )
        self._ready = True

    async def claim(self, key: str, owner: str, lease: float) -> ClaimStatus:
        params = {"key": key, "owner": owner, "lease": lease}
        async with self._pool.connection("claim") as conn:
            await self._ensure_schema(conn)
            while True:
                cur = await conn.execute(self._sql_claim, params)
                if await cur.fetchone() is not None:
                    status = ClaimStatus.CLAIMED
                    break
                cur = await conn.execute(f"SELECT state FROM {self._table} WHERE key = %s", (key,))
                row = await cur.fetchone()
                if row is not None:
                    status = ClaimStatus.DUPLICATE if row[0] == 1 else ClaimStatus.IN_PROGRESS
                    break
            await self._maybe_cleanup(conn)
        return status

    async def _maybe_cleanup(self, conn: Any) -> None:
        now = time.monotonic()
        if self._next_cleanup is None or now >= self._next_cleanup:
            self._next_cleanup = now + 3600.0
            await self._delete_stale(conn)

    async def _delete_stale(self, conn: Any) -> int:
        cur = await conn.execute(
            f"DELETE FROM {self._table} WHERE (state = 1 AND until <= {_NOW}) "
            f"OR until <= {_NOW} - {_SECONDS.format('%s')}",
            (self._retention,),
        )
        return int(cur.rowcount)

    async def extend(self, key: str, owner: str, lease: float) -> bool:
        async with self._pool.connection("extend") as conn:
            await self._ensure_schema(conn)
            cur = await conn.execute(
                f"UPDATE {self._table} SET until = {_NOW} + {_SECONDS.format('%s')} "
                "WHERE key = %s AND owner = %s AND state = 0",
                (lease, key, owner),
            )
            return bool(cur.rowcount)

    async def commit(self, key: str, owner: str) -> None:
        async with self._pool.connection("commit") as conn:
            await self._ensure_schema(conn)
            await conn.execute(self._sql_commit, {"key": key, "retention": self._retention})

    async def release(self, key: str, owner: str) -> None:
        async with self._pool.connection("release") as conn:
            await self._ensure_schema(conn)
            await conn.execute(
                f"DELETE FROM {self._table} WHERE key = %s AND owner = %s AND state = 0",
                (key, owner),
            )

    async def cleanup(self) -> int:
        async with self._pool.connection("cleanup") as conn:
            await self._ensure_schema(conn)
            return await self._delete_stale(conn)

    async def commit_with(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``await work(connection)`` and commit the current handler's key in one
        transaction (``connection`` is a psycopg ``AsyncConnection`` inside it).

        Raises :class:`~eventbus.ClaimLostError` (nothing written) if the claim expired and
        another worker took or finished the key meanwhile.
        """
        claim = current_claim()
        if claim is None or claim.store is not self:
            raise ConfigurationError(
                "commit_with must be called from a handler running behind "
                "Idempotency(store) with this same store"
            )
        async with self._pool.connection("commit_with") as conn:
            await self._ensure_schema(conn)
            async with conn.transaction():
                cur = await conn.execute(
                    f"SELECT owner, state FROM {self._table} WHERE key = %s FOR UPDATE",
                    (claim.key,),
                )
                row = await cur.fetchone()
                if row is None or row[1] != 0 or row[0] != claim.owner:
                    raise ClaimLostError(
                        f"the claim on {claim.key!r} was lost (its lease expired and another "
                        "worker took or finished it); nothing was written",
                        store=self._pool.name,
                    )
                result = await work(conn)
                await conn.execute(
                    self._sql_commit, {"key": claim.key, "retention": self._retention}
                )
        claim.committed = True
        return result

    async def close(self) -> None:
        await self._pool.close()
