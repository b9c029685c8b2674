"""Shared plumbing of the database-backed stores (idempotency stores, transactional outbox).

- :class:`SqliteWorker`: one SQLite connection owned by one dedicated thread, so blocking
  ``sqlite3`` calls never run on the event loop and never share a connection between threads;
- :func:`require`: import an optional driver, or fail with the ``pip install`` line to run;
- :func:`check_table_name`, :func:`sqlite_path`: argument checks with messages naming the problem.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import TypeVar
from urllib.parse import unquote, urlsplit

from eventbus._errors import ConfigurationError, StoreError

__all__ = ["SqliteWorker", "check_table_name", "require", "sqlite_path"]

T = TypeVar("T")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or raise a ConfigurationError naming the extra that provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(
            f"this feature needs the {module.split('.')[0]!r} package: "
            f'pip install "eventbus[{extra}]"'
        ) from exc


def check_table_name(name: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
        raise ConfigurationError(
            f"table name {name!r} is not a plain SQL identifier "
            "(letters, digits and '_', starting with a letter or '_', at most 63 characters)"
        )
    return name


def sqlite_path(target: str | Path) -> str:
    """A file path from a path or a ``sqlite:///relative`` / ``sqlite:////absolute`` URL."""
    if isinstance(target, Path):
        return str(target)
    if target.startswith("sqlite:"):
        parts = urlsplit(target)
        if parts.netloc not in ("", "localhost"):
            raise ConfigurationError(
                f"SQLite URL {target!r} names a host: use sqlite:///relative/path.db "
                "or sqlite:////absolute/path.db"
            )
        path = unquote(parts.path)
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ConfigurationError(f"SQLite URL {target!r} has no file path")
        return path
    if not target:
        raise ConfigurationError("the SQLite database path is empty")
    return target


class SqliteWorker:
    """Runs functions on a dedicated thread that owns one SQLite connection (WAL mode).

    The connection is in autocommit mode (``isolation_level=None``): callers open their own
    transactions (``BEGIN IMMEDIATE`` for read-modify-write) so that several processes sharing
    the file serialise correctly; ``busy_timeout`` makes a writer wait for another's lock.
    """

    def __init__(
        self, path: str, *, name: str, busy_timeout: float = 30.0, synchronous: str = "NORMAL"
    ) -> None:
        if synchronous.upper() not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ConfigurationError(
                f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}"
            )
        self.path = path
        self.name = name
        self._busy_timeout = busy_timeout
        self._synchronous = synchronous.upper()
        self._executor: ThreadPoolExecutor | None = None
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            mode = self._switch_to_wal(conn)
            if mode.lower() != "wal" and self.path != ":memory:":
                raise StoreError(f"could not switch to WAL mode (got {mode!r})", store=self.name)
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _switch_to_wal(self, conn: sqlite3.Connection) -> str:
        # Switching the journal mode needs an exclusive lock, and SQLite reports "locked" at
        # once (no busy handler) when another connection opens the file at the same moment.
        deadline = time.monotonic() + self._busy_timeout
        pause = 0.005
        while True:
            try:
                return str(conn.execute("PRAGMA journal_mode = WAL").fetchone()[0])
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)
            pause = min(pause * 2, 0.2)

    def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._conn is None:
            self._conn = self._connect()
        return fn(self._conn)

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(connection)`` on the worker thread; sqlite3 errors become StoreError."""
        if self._closed:
            raise StoreError("the store is closed", store=self.name)
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(1, thread_name_prefix="eventbus-sqlite")
            executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, self._call, fn)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite error: {exc}", store=self.name) from exc

    async def close(self) -> None:
        """Close the connection on its own thread, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is None:
            return

        def shut() -> None:
            conn, self._conn = self._conn, None
            if conn is not None:
                conn.close()

        await asyncio.get_running_loop().run_in_executor(executor, shut)
        executor.shutdown(wait=False)


def transaction(conn: sqlite3.Connection, body: Callable[[], T]) -> T:
    """Run ``body`` inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back if it raises)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = body()
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result
