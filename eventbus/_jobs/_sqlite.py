"""``SqliteJobStore``: the default job store, one file shared by the processes of a host.

Runs on the store layer's :class:`~eventbus._store._dbutil.SqliteWorker` (a dedicated thread,
WAL mode, ``busy_timeout``). Insert-unless-the-key-exists is one ``INSERT ... ON CONFLICT DO
NOTHING``; a replace is ``UPDATE ... WHERE id = ? AND version = ?`` (compare-and-set).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from eventbus._errors import ConfigurationError
from eventbus._jobs._model import JobState, JobStatus, decode_status, encode_status
from eventbus._jobs._store import check_limit
from eventbus._store._dbutil import SqliteWorker, check_table_name, sqlite_path

__all__ = ["SqliteJobStore"]

T = TypeVar("T")


class SqliteJobStore:
    """Jobs in a SQLite file (``path`` or ``sqlite:///path.db``)."""

    def __init__(
        self,
        path: str | Path,
        *,
        table: str = "eventbus_jobs",
        busy_timeout: float = 30.0,
        synchronous: str = "NORMAL",
    ) -> None:
        self._path = sqlite_path(path)
        if self._path == ":memory:":
            raise ConfigurationError(
                "an in-memory SQLite database is private to one connection: use a file"
            )
        self._table = t = check_table_name(table)
        self._worker = SqliteWorker(
            self._path,
            name=f"sqlite job store {self._path}",
            busy_timeout=busy_timeout,
            synchronous=synchronous,
        )
        self._ready = False
        self._sql_insert = (
            f"INSERT INTO {t} (id, key, type, state, version, created, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
        )
        self._sql_by_key = f"SELECT body FROM {t} WHERE key = ?"
        self._sql_get = f"SELECT body FROM {t} WHERE id = ?"
        self._sql_replace = (
            f"UPDATE {t} SET state = ?, version = ?, body = ? WHERE id = ? AND version = ?"
        )
        self._sql_delete = f"DELETE FROM {t} WHERE id = ? AND version = ?"

    def __repr__(self) -> str:
        return f"SqliteJobStore({self._path!r})"

    @property
    def name(self) -> str:
        return self._worker.name

    def _schema(self, conn: sqlite3.Connection) -> None:
        t = self._table
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY, key TEXT UNIQUE, "
            "type TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL, "
            "created REAL NOT NULL, body BLOB NOT NULL)"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_created ON {t} (created)")
        conn.execute(f"CREATE INDEX IF NOT EXISTS {t}_state ON {t} (state, created)")

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if not self._ready:
            await self._worker.run(self._schema)
            self._ready = True
        return await self._worker.run(fn)

    async def insert(self, status: JobStatus) -> tuple[JobStatus, bool]:
        row = (
            status.id,
            status.key,
            status.type,
            status.state.value,
            status.version,
            status.created.timestamp(),
            encode_status(status),
        )

        def insert(conn: sqlite3.Connection) -> tuple[JobStatus, bool]:
            while True:
                if conn.execute(self._sql_insert, row).rowcount == 1:
                    return status, True
                found = conn.execute(self._sql_by_key, (status.key,)).fetchone()
                if found is not None:
                    return decode_status(found[0]), False
                # the key's job was deleted between the two statements: try again

        return await self._run(insert)

    async def get(self, job_id: str) -> JobStatus | None:
        def get(conn: sqlite3.Connection) -> JobStatus | None:
            found = conn.execute(self._sql_get, (job_id,)).fetchone()
            return None if found is None else decode_status(found[0])

        return await self._run(get)

    async def replace(self, status: JobStatus) -> bool:
        args = (
            status.state.value,
            status.version,
            encode_status(status),
            status.id,
            status.version - 1,
        )
        return await self._run(lambda conn: conn.execute(self._sql_replace, args).rowcount == 1)

    async def apply(
        self, job_id: str, compute: Callable[[JobStatus], JobStatus | None]
    ) -> tuple[JobStatus | None, bool, int]:
        """Read, ``compute`` and compare-and-set in one trip to the database thread (the same
        CAS statement as :meth:`replace`, retried on a lost race): ``(status, changed,
        conflicts)``; status None if there is no such job."""

        def apply(conn: sqlite3.Connection) -> tuple[JobStatus | None, bool, int]:
            conflicts = 0
            while True:
                found = conn.execute(self._sql_get, (job_id,)).fetchone()
                if found is None:
                    return None, False, conflicts
                current = decode_status(found[0])
                new = compute(current)
                if new is None:
                    return current, False, conflicts
                args = (new.state.value, new.version, encode_status(new), new.id, new.version - 1)
                if conn.execute(self._sql_replace, args).rowcount == 1:
                    return new, True, conflicts
                conflicts += 1

        return await self._run(apply)

    async def delete(self, job_id: str, version: int) -> bool:
        args = (job_id, version)
        return await self._run(lambda conn: conn.execute(self._sql_delete, args).rowcount == 1)

    async def list(
        self, *, state: JobState | None = None, type: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        check_limit(limit)
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(JobState(state).value)
        if type is not None:
            where.append("type = ?")
            args.append(type)
        sql = f"SELECT body FROM {self._table}"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY created DESC, id LIMIT {int(limit)}"

        def select(conn: sqlite3.Connection) -> list[JobStatus]:
            return [decode_status(row[0]) for row in conn.execute(sql, args)]

        return await self._run(select)

    async def close(self) -> None:
        await self._worker.close()
