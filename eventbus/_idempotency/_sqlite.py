"""``SqliteIdempotencyStore``: the embedded default, one file shared by the processes of a host.

The standard library's sqlite3 runs on a dedicated thread (never on the event loop), in WAL
mode, with ``busy_timeout`` so that processes sharing the file wait for each other's write lock.
A claim is one upsert (``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` the record is free), so it
is atomic across processes. ``commit_with`` writes a handler's own side effect and the commit in
one transaction: exactly-once effects even when a worker is killed mid-handler.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from eventbus._errors import ClaimLostError, ConfigurationError
from eventbus._idempotency._middleware import current_claim
from eventbus._idempotency._store import DEFAULT_RETENTION, ClaimStatus, check_retention
from eventbus._store._dbutil import SqliteWorker, check_table_name, sqlite_path, transaction

__all__ = ["SqliteIdempotencyStore"]

T = TypeVar("T")
_CLEANUP_EVERY = 3600.0  # seconds between opportunistic cleanups


class SqliteIdempotencyStore:
    """Idempotency keys in a SQLite file (``path`` or ``sqlite:///path.db``), shared safely by
    every process on the host that opens the same file.

    ``synchronous``: ``NORMAL`` (default) survives a killed process; ``FULL`` also survives a
    power loss. Done records past ``retention`` seconds are deleted at most once an hour, during
    a claim, or on :meth:`cleanup`.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        table: str = "eventbus_idempotency",
        retention: float = DEFAULT_RETENTION,
        busy_timeout: float = 30.0,
        synchronous: str = "NORMAL",
    ) -> None:
        self._path = sqlite_path(path)
        if self._path == ":memory:":
            raise ConfigurationError(
                "an in-memory SQLite database is private to one connection: "
                "use MemoryIdempotencyStore, or a file"
            )
        self._table = check_table_name(table)
        self._retention = check_retention(retention)
        self._worker = SqliteWorker(
            self._path,
            name=f"sqlite idempotency store {self._path}",
            busy_timeout=busy_timeout,
            synchronous=synchronous,
        )
        self._ready = False
        self._next_cleanup = 0.0
        t = self._table
        self._sql_claim = (
            f"INSERT INTO {t} (key, owner, state, until) VALUES (?1, ?2, 0, ?3) "
            f"ON CONFLICT (key) DO UPDATE SET owner = ?2, state = 0, until = ?3 "
            f"WHERE {t}.until <= ?4 OR ({t}.state = 0 AND {t}.owner = ?2) RETURNING state"
        )
        self._sql_state = f"SELECT state FROM {t} WHERE key = ?"
        self._sql_commit = (
            f"INSERT INTO {t} (key, owner, state, until) VALUES (?1, NULL, 1, ?2) "
            f"ON CONFLICT (key) DO UPDATE SET owner = NULL, state = 1, until = ?2"
        )
        self._sql_release = f"DELETE FROM {t} WHERE key = ? AND owner = ? AND state = 0"
        self._sql_extend = f"UPDATE {t} SET until = ? WHERE key = ? AND owner = ? AND state = 0"

    def __repr__(self) -> str:
        return f"SqliteIdempotencyStore({self._path!r})"

    @property
    def path(self) -> str:
        return self._path

    @property
    def retention(self) -> float:
        return self._retention

    def _schema(self, conn: sqlite3.Connection) -> None:
        # ``until``: lease end of a claim (state 0) or end of retention of a done key (state 1).
        conn.execute(
            f"CREATE TABLE IF NOT EXISTS {self._table} (key TEXT PRIMARY KEY, owner TEXT, "
            "state INTEGER NOT NULL, until REAL NOT NULL) WITHOUT ROWID"
        )
        conn.execute(f"CREATE INDEX IF NOT EXISTS {self._table}_until ON {self._table} (until)")

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if not self._ready:
            await self._worker.run(self._schema)
            self._ready = True
        return await self._worker.run(fn)

    async def claim(self, key: str, owner: str, lease: float) -> ClaimStatus:
        def claim(conn: sqlite3.Connection) -> ClaimStatus:
            now = time.time()
            while True:
                if conn.execute(self._sql_claim, (key, owner, now + lease, now)).fetchone():
                    status = ClaimStatus.CLAIMED
                    break
                row = conn.execute(self._sql_state, (key,)).fetchone()
                if row is not None:
                    status = ClaimStatus.DUPLICATE if row[0] == 1 else ClaimStatus.IN_PROGRESS
                    break
                # deleted between the two statements: try again
            if now >= self._next_cleanup:
                self._next_cleanup = now + _CLEANUP_EVERY
                self._delete_stale(conn, now)
            return status

        return await self._run(claim)

    async def extend(self, key: str, owner: str, lease: float) -> bool:
        def extend(conn: sqlite3.Connection) -> bool:
            return conn.execute(self._sql_extend, (time.time() + lease, key, owner)).rowcount > 0

        return await self._run(extend)

    async def commit(self, key: str, owner: str) -> None:
        def commit(conn: sqlite3.Connection) -> None:
            conn.execute(self._sql_commit, (key, time.time() + self._retention))

        await self._run(commit)

    async def release(self, key: str, owner: str) -> None:
        def release(conn: sqlite3.Connection) -> None:
            conn.execute(self._sql_release, (key, owner))

        await self._run(release)

    def _delete_stale(self, conn: sqlite3.Connection, now: float) -> int:
        # A done key past retention, or a claim abandoned for longer than the retention window.
        cur = conn.execute(
            f"DELETE FROM {self._table} WHERE (state = 1 AND until <= ?) OR until <= ?",
            (now, now - self._retention),
        )
        return cur.rowcount

    async def cleanup(self) -> int:
        return await self._run(lambda conn: self._delete_stale(conn, time.time()))

    async def commit_with(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work(connection)`` and commit the current handler's key in one transaction.

        Call it from a handler behind :class:`~eventbus.Idempotency` with this store: the side
        effect ``work`` writes (to tables in the same SQLite file) is committed together with
        the key, or not at all. Raises :class:`~eventbus.ClaimLostError` (nothing written) if
        the claim expired and another worker took or finished the key meanwhile.
        """
        claim = current_claim()
        if claim is None or claim.store is not self:
            raise ConfigurationError(
                "commit_with must be called from a handler running behind "
                "Idempotency(store) with this same store"
            )
        key, owner = claim.key, claim.owner

        def run(conn: sqlite3.Connection) -> T:
            def body() -> T:
                row = conn.execute(
                    f"SELECT owner, state FROM {self._table} WHERE key = ?", (key,)
                ).fetchone()
                if row is None or row[1] != 0 or row[0] != owner:
                    raise ClaimLostError(
                        f"the claim on {key!r} was lost (its lease expired and another worker "
                        "took or finished it); nothing was written",
                        store=repr(self),
                    )
                result = work(conn)
                conn.execute(self._sql_commit, (key, time.time() + self._retention))
                return result

            return transaction(conn, body)

        result = await self._run(run)
        claim.committed = True
        return result

    async def close(self) -> None:
        await self._worker.close()
