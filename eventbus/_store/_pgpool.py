"""A small pool of psycopg 3 async connections for the PostgreSQL stores (idempotency, outbox).

Connections are opened lazily, up to ``size``, in autocommit mode; a broken one is dropped and
replaced on the next acquire. Every psycopg error leaves as :class:`~eventbus.StoreError` naming
the store by its redacted URL; psycopg's own text is cleaned of the URL's secrets (and of any
fragment of it that psycopg quotes), and chained only when it held none, so no password reaches
a log. A libpq ``key=value`` string is refused with its password hidden.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any

from eventbus._errors import ConfigurationError, StoreError
from eventbus._redact import redact_text, redact_url
from eventbus._store._dbutil import require

__all__ = ["PgPool"]


class PgPool:
    def __init__(self, dsn: str, *, size: int = 4, what: str) -> None:
        if not dsn.startswith(("postgresql://", "postgres://")):
            raise ConfigurationError(
                f"not a PostgreSQL URL: {redact_url(dsn)!r} "
                "(expected postgresql://user:password@host:port/database)"
            )
        if size < 1:
            raise ConfigurationError(f"pool size must be >= 1, got {size!r}")
        self._psycopg: Any = require("psycopg", "postgres")
        self._dsn = dsn
        self.name = f"{what} {redact_url(dsn)}"
        self._size = size
        self._idle: list[Any] = []
        self._opened = 0
        self._available = asyncio.Condition()
        self._closed = False

    @property
    def errors(self) -> type[BaseException]:
        return self._psycopg.Error  # type: ignore[no-any-return]

    def fail(self, what: str, exc: BaseException) -> StoreError:
        """The StoreError for psycopg's ``exc``; raise it as it is (the chain is set here)."""
        raw = str(exc)
        clean = redact_text(raw, self._dsn)
        text = " ".join(clean.strip().splitlines())
        error = StoreError(f"{what} failed: {type(exc).__name__}: {text}", store=self.name)
        error.__cause__ = exc if clean == raw else None  # chained only when it holds no secret
        error.__suppress_context__ = True
        return error

    async def create_schema(self, conn: Any, *statements: str) -> None:
        """Run ``CREATE ... IF NOT EXISTS`` statements, tolerating another process doing the
        same at the same moment (PostgreSQL may then report a duplicate catalog entry)."""
        errors = self._psycopg.errors
        for statement in statements:
            with suppress(errors.UniqueViolation, errors.DuplicateTable, errors.DuplicateObject):
                await conn.execute(statement)

    @asynccontextmanager
    async def connection(self, what: str) -> AsyncIterator[Any]:
        """Lend a connection; psycopg errors raised inside become StoreError."""
        conn = await self._acquire(what)
        try:
            yield conn
        except self._psycopg.Error as exc:
            raise self.fail(what, exc)  # noqa: B904 (fail() sets the cause)
        finally:
            await self._give_back(conn)

    async def _acquire(self, what: str) -> Any:
        async with self._available:
            while True:
                if self._closed:
                    raise StoreError("the store is closed", store=self.name)
                if self._idle:
                    return self._idle.pop()
                if self._opened < self._size:
                    self._opened += 1
                    break
                await self._available.wait()
        try:
            return await self._psycopg.AsyncConnection.connect(self._dsn, autocommit=True)
        except BaseException as exc:
            async with self._available:
                self._opened -= 1
                self._available.notify()
            if isinstance(exc, self._psycopg.Error):
                raise self.fail(f"{what}: connecting", exc)  # noqa: B904 (fail() sets the cause)
            raise

    async def _give_back(self, conn: Any) -> None:
        broken = conn.closed or conn.broken or self._closed
        if not broken and conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
            try:
                await conn.rollback()
            except self._psycopg.Error:
                broken = True
        async with self._available:
            if broken:
                self._opened -= 1
            else:
                self._idle.append(conn)
            self._available.notify()
        if broken and not conn.closed:
            await conn.close()

    async def close(self) -> None:
        async with self._available:
            self._closed = True
            idle, self._idle = self._idle, []
            self._opened -= len(idle)
            self._available.notify_all()
        for conn in idle:
            await conn.close()
