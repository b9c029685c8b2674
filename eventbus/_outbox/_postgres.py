"""``PostgresOutbox``: a transactional outbox table in the application's PostgreSQL database.

The application writes events with :meth:`PostgresOutbox.add` (psycopg 3 ``AsyncConnection``) or
:meth:`PostgresOutbox.add_sync` (``Connection``) inside the transaction that writes its business
data. The relay side uses its own small connection pool. Times come from the server's clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from eventbus._bus._router import Router
from eventbus._errors import redact_url
from eventbus._outbox._model import OutboxRow, row_values
from eventbus._store._dbutil import check_table_name
from eventbus._store._pgpool import PgPool
from eventbus._wire._event import Event

__all__ = ["PostgresOutbox"]


class PostgresOutbox:
    """The outbox table ``table`` (default ``eventbus_outbox``) in the database at ``url``.

    ``url`` is only used by the relay side (``add`` uses the caller's connection). ``router``
    maps event types to channels as the publishing bus's router would.
    """

    def __init__(
        self,
        url: str,
        *,
        table: str = "eventbus_outbox",
        router: Router | None = None,
        pool_size: int = 2,
    ) -> None:
        self._table = t = check_table_name(table)
        self._router = router or Router()
        self._pool = PgPool(url, size=pool_size, what="postgres outbox")
        self._url = redact_url(url)
        self._insert = (
            f"INSERT INTO {t} (channel, partition_key, event_id, body) VALUES (%s, %s, %s, %s)"
        )

    def __repr__(self) -> str:
        return f"PostgresOutbox({self._url!r}, table={self._table!r})"

    @property
    def name(self) -> str:
        return self._pool.name

    @property
    def table(self) -> str:
        return self._table

    def schema(self) -> list[str]:
        t = self._table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} (id BIGSERIAL PRIMARY KEY, channel TEXT NOT NULL, "
            "partition_key TEXT, event_id TEXT NOT NULL, body BYTEA NOT NULL, "
            "created_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), sent_at TIMESTAMPTZ)",
            f"CREATE INDEX IF NOT EXISTS {t}_unsent ON {t} (id) WHERE sent_at IS NULL",
            f"CREATE TABLE IF NOT EXISTS {t}_relay "
            "(name TEXT PRIMARY KEY, owner TEXT NOT NULL, until TIMESTAMPTZ NOT NULL)",
        ]

    # -- the application's side: its connection, its transaction ---------------------------------

    async def create_schema(self, conn: Any) -> None:
        """Create the outbox tables on ``conn`` (an AsyncConnection) if missing."""
        await self._pool.create_schema(conn, *self.schema())

    async def add(self, conn: Any, event: Event[Any], *, channel: str | None = None) -> None:
        """Insert ``event`` with ``conn`` (a psycopg ``AsyncConnection`` or ``AsyncCursor``)
        without committing: it is sent if and only if the caller's transaction commits."""
        await self.add_many(conn, (event,), channel=channel)

    async def add_many(
        self, conn: Any, events: Iterable[Event[Any]], *, channel: str | None = None
    ) -> None:
        rows = [row_values(e, self._router, channel) for e in events]
        cursor = conn.cursor() if hasattr(conn, "cursor") else conn
        await cursor.executemany(self._insert, rows)

    def add_sync(self, conn: Any, event: Event[Any], *, channel: str | None = None) -> None:
        """:meth:`add` for a blocking psycopg ``Connection`` (or ``Cursor``)."""
        cursor = conn.cursor() if hasattr(conn, "cursor") else conn
        cursor.execute(self._insert, row_values(event, self._router, channel))

    # -- the relay's side ------------------------------------------------------------------------

    async def ensure_schema(self) -> None:
        async with self._pool.connection("creating the outbox tables") as conn:
            await self._pool.create_schema(conn, *self.schema())

    async def acquire(self, relay: str, owner: str, lease: float) -> bool:
        t = f"{self._table}_relay"
        async with self._pool.connection("taking the relay lease") as conn:
            cur = await conn.execute(
                f"INSERT INTO {t} AS cur (name, owner, until) "
                "VALUES (%s, %s, clock_timestamp() + make_interval(secs => %s)) "
                "ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until "
                "WHERE cur.until <= clock_timestamp() OR cur.owner = excluded.owner "
                "RETURNING owner",
                (relay, owner, lease),
            )
            return await cur.fetchone() is not None

    async def release(self, relay: str, owner: str) -> None:
        async with self._pool.connection("releasing the relay lease") as conn:
            await conn.execute(
                f"DELETE FROM {self._table}_relay WHERE name = %s AND owner = %s", (relay, owner)
            )

    async def fetch(self, limit: int) -> list[OutboxRow]:
        async with self._pool.connection("reading the outbox") as conn:
            cur = await conn.execute(
                f"SELECT id, channel, partition_key, body FROM {self._table} "
                "WHERE sent_at IS NULL ORDER BY id LIMIT %s",
                (limit,),
            )
            return [OutboxRow(r[0], r[1], r[2], bytes(r[3])) for r in await cur.fetchall()]

    async def mark_sent(self, ids: list[int]) -> None:
        async with self._pool.connection("marking outbox rows sent") as conn:
            await conn.execute(
                f"UPDATE {self._table} SET sent_at = clock_timestamp() WHERE id = ANY(%s)", (ids,)
            )

    async def pending(self) -> int:
        async with self._pool.connection("counting outbox rows") as conn:
            cur = await conn.execute(f"SELECT count(*) FROM {self._table} WHERE sent_at IS NULL")
            row = await cur.fetchone()
            return int(row[0])

    async def cleanup(self, older_than: float) -> int:
        async with self._pool.connection("cleaning the outbox") as conn:
            cur = await conn.execute(
                f"DELETE FROM {self._table} WHERE sent_at IS NOT NULL "
                "AND sent_at <= clock_timestamp() - make_interval(secs => %s)",
                (older_than,),
            )
            return int(cur.rowcount)

    async def close(self) -> None:
        await self._pool.close()
