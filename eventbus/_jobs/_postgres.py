"""``PostgresJobStore``: jobs in a PostgreSQL table, shared by services on many hosts.

Runs on the store layer's :class:`~eventbus._store._pgpool.PgPool` (errors become StoreError
without secrets). A replace is ``UPDATE ... WHERE id = %s AND version = %s`` (compare-and-set).
Needs ``pip install "eventbus[postgres]"`` (psycopg 3).
"""

from __future__ import annotations

from typing import Any

from eventbus._jobs._model import JobState, JobStatus, decode_status, encode_status
from eventbus._jobs._store import check_limit
from eventbus._store._dbutil import check_table_name
from eventbus._store._pgpool import PgPool

__all__ = ["PostgresJobStore"]


class PostgresJobStore:
    """Jobs in PostgreSQL: ``PostgresJobStore("postgresql://u:p@h/db")``; the table (default
    ``eventbus_jobs``) is created on first use; ``pool_size`` connections at most."""

    def __init__(self, url: str, *, table: str = "eventbus_jobs", pool_size: int = 4) -> None:
        self._table = check_table_name(table)
        self._pool = PgPool(url, size=pool_size, what="postgres job store")
        self._ready = False

    def __repr__(self) -> str:
        return f"PostgresJobStore({self._pool.name!r})"

    @property
    def name(self) -> str:
        return self._pool.name

    async def _ensure_schema(self, conn: Any) -> None:
        if self._ready:
            return
        t = self._table
        await self._pool.create_schema(
            conn,
            f"CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY, key TEXT UNIQUE, "
            "type TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL, "
            "created DOUBLE PRECISION NOT NULL, body TEXT NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_created ON {t} (created)",
            f"CREATE INDEX IF NOT EXISTS {t}_state ON {t} (state, created)",
        )
        self._ready = True

    async def insert(self, status: JobStatus) -> tuple[JobStatus, bool]:
        t = self._table
        row = (
            status.id,
            status.key,
            status.type,
            status.state.value,
            status.version,
            status.created.timestamp(),
            encode_status(status).decode(),
        )
        async with self._pool.connection("insert") as conn:
            await self._ensure_schema(conn)
            while True:
                cur = await conn.execute(
                    f"INSERT INTO {t} (id, key, type, state, version, created, body) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                    row,
                )
                if cur.rowcount == 1:
                    return status, True
                cur = await conn.execute(f"SELECT body FROM {t} WHERE key = %s", (status.key,))
                found = await cur.fetchone()
                if found is not None:
                    return decode_status(found[0]), False

    async def get(self, job_id: str) -> JobStatus | None:
        async with self._pool.connection("get") as conn:
            await self._ensure_schema(conn)
            cur = await conn.execute(f"SELECT body FROM {self._table} WHERE id = %s", (job_id,))
            found = await cur.fetchone()
        return None if found is None else decode_status(found[0])

    async def replace(self, status: JobStatus) -> bool:
        async with self._pool.connection("replace") as conn:
            await self._ensure_schema(conn)
            cur = await conn.execute(
                f"UPDATE {self._table} SET state = %s, version = %s, body = %s "
                "WHERE id = %s AND version = %s",
                (
                    status.state.value,
                    status.version,
                    encode_status(status).decode(),
                    status.id,
                    status.version - 1,
                ),
            )
            return bool(cur.rowcount == 1)

    async def delete(self, job_id: str, version: int) -> bool:
        async with self._pool.connection("delete") as conn:
            await self._ensure_schema(conn)
            cur = await conn.execute(
                f"DELETE FROM {self._table} WHERE id = %s AND version = %s", (job_id, version)
            )
            return bool(cur.rowcount == 1)

    async def list(
        self, *, state: JobState | None = None, type: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        check_limit(limit)
        where: list[str] = []
        args: list[Any] = []
        if state is not None:
            where.append("state = %s")
            args.append(JobState(state).value)
        if type is not None:
            where.append("type = %s")
            args.append(type)
        sql = f"SELECT body FROM {self._table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created DESC, id LIMIT %s"
        args.append(limit)
        async with self._pool.connection("list") as conn:
            await self._ensure_schema(conn)
            cur = await conn.execute(sql, args)
            rows = await cur.fetchall()
        return [decode_status(row[0]) for row in rows]

    async def close(self) -> None:
        await self._pool.close()
