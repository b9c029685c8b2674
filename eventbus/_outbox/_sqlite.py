"""``SqliteOutbox``: a transactional outbox table in the application's SQLite database.

The application writes events with :meth:`SqliteOutbox.add` on its own ``sqlite3`` connection,
inside the transaction that writes its business data: both commit, or neither. The relay side
(``OutboxStore``) uses its own connection on a dedicated thread.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from eventbus._bus._router import Router
from eventbus._errors import StoreError
from eventbus._outbox._model import OutboxRow, row_values
from eventbus._store._dbutil import SqliteWorker, check_table_name, sqlite_path, transaction
from eventbus._wire._event import Event

__all__ = ["SqliteOutbox"]


class SqliteOutbox:
    """The outbox table ``table`` (default ``eventbus_outbox``) in the SQLite file ``path``.

    ``router`` maps event types to channels as the publishing bus's router would (default: the
    type is the channel); ``add(..., channel=...)`` overrides it per event.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        table: str = "eventbus_outbox",
        router: Router | None = None,
        busy_timeout: float = 30.0,
    ) -> None:
        self._path = sqlite_path(path)
        self._table = check_table_name(table)
        self._router = router or Router()
        self._worker = SqliteWorker(self._path, name=self.name, busy_timeout=busy_timeout)
        t = self._table
        self._insert = (
            f"INSERT INTO {t} (channel, partition_key, event_id, body, created_at) "
            "VALUES (?, ?, ?, ?, ?)"
        )

    def __repr__(self) -> str:
        return f"SqliteOutbox({self._path!r}, table={self._table!r})"

    @property
    def name(self) -> str:
        return f"sqlite outbox {self._path}"

    @property
    def table(self) -> str:
        return self._table

    def schema(self) -> list[str]:
        t = self._table
        return [
            f"CREATE TABLE IF NOT EXISTS {t} (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "channel TEXT NOT NULL, partition_key TEXT, event_id TEXT NOT NULL, "
            "body BLOB NOT NULL, created_at REAL NOT NULL, sent_at REAL)",
            f"CREATE INDEX IF NOT EXISTS {t}_unsent ON {t} (id) WHERE sent_at IS NULL",
            f"CREATE TABLE IF NOT EXISTS {t}_relay "
            "(name TEXT PRIMARY KEY, owner TEXT NOT NULL, until REAL NOT NULL)",
        ]

    # -- the application's side: its connection, its transaction ---------------------------------

    def create_schema(self, conn: sqlite3.Connection) -> None:
        """Create the outbox tables on ``conn`` if missing (the relay also does it on start)."""
        for statement in self.schema():
            conn.execute(statement)

    def add(
        self, conn: sqlite3.Connection, event: Event[Any], *, channel: str | None = None
    ) -> None:
        """Insert ``event`` on ``conn`` without committing: it is sent if and only if the
        caller's transaction commits."""
        self.add_many(conn, (event,), channel=channel)

    def add_many(
        self, conn: sqlite3.Connection, events: Iterable[Event[Any]], *, channel: str | None = None
    ) -> None:
        now = time.time()
        rows = [(*row_values(e, self._router, channel), now) for e in events]
        try:
            conn.executemany(self._insert, rows)
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                raise StoreError(
                    f"table {self._table!r} does not exist: call outbox.create_schema(conn) "
                    "once (or start the relay) first",
                    store=self.name,
                ) from exc
            raise

    # -- the relay's side ------------------------------------------------------------------------

    async def ensure_schema(self) -> None:
        await self._worker.run(lambda conn: transaction(conn, lambda: self.create_schema(conn)))

    async def acquire(self, relay: str, owner: str, lease: float) -> bool:
        def acquire(conn: sqlite3.Connection) -> bool:
            now = time.time()
            row = conn.execute(
                f"INSERT INTO {self._table}_relay (name, owner, until) VALUES (?1, ?2, ?3) "
                "ON CONFLICT (name) DO UPDATE SET owner = ?2, until = ?3 "
                f"WHERE {self._table}_relay.until <= ?4 OR {self._table}_relay.owner = ?2 "
                "RETURNING owner",
                (relay, owner, now + lease, now),
            ).fetchone()
            return row is not None

        return await self._worker.run(acquire)

    async def release(self, relay: str, owner: str) -> None:
        await self._worker.run(
            lambda conn: conn.execute(
                f"DELETE FROM {self._table}_relay WHERE name = ? AND owner = ?", (relay, owner)
            )
        )

    async def fetch(self, limit: int) -> list[OutboxRow]:
        def fetch(conn: sqlite3.Connection) -> list[OutboxRow]:
            cur = conn.execute(
                f"SELECT id, channel, partition_key, body FROM {self._table} "
                "WHERE sent_at IS NULL ORDER BY id LIMIT ?",
                (limit,),
            )
            return [OutboxRow(r[0], r[1], r[2], bytes(r[3])) for r in cur]

        return await self._worker.run(fetch)

    async def mark_sent(self, ids: list[int]) -> None:
        def mark(conn: sqlite3.Connection) -> None:
            now = time.time()
            conn.executemany(
                f"UPDATE {self._table} SET sent_at = ? WHERE id = ?", [(now, i) for i in ids]
            )

        await self._worker.run(lambda conn: transaction(conn, lambda: mark(conn)))

    async def pending(self) -> int:
        def count(conn: sqlite3.Connection) -> int:
            sql = f"SELECT count(*) FROM {self._table} WHERE sent_at IS NULL"
            return int(conn.execute(sql).fetchone()[0])

        return await self._worker.run(count)

    async def cleanup(self, older_than: float) -> int:
        def delete(conn: sqlite3.Connection) -> int:
            cur = conn.execute(
                f"DELETE FROM {self._table} WHERE sent_at IS NOT NULL AND sent_at <= ?",
                (time.time() - older_than,),
            )
            return cur.rowcount

        return await self._worker.run(delete)

    async def close(self) -> None:
        await self._worker.close()
