"""Durable webhook endpoints: SQLite (default) or PostgreSQL, on the shared store layer.

One table (``eventbus_webhook_endpoints`` by default): ``id``, ``url``, ``enabled`` and the
rest of the endpoint as a JSON document (the secrets too: the delivery process needs them to
sign, so the database must be protected like any credential store). Errors are
:class:`~eventbus.StoreError` naming the store by its redacted URL.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Protocol

import msgspec

from eventbus._errors import ConfigurationError, WebhookError, redact_url
from eventbus._store._dbutil import SqliteWorker, check_table_name, sqlite_path, transaction
from eventbus._store._pgpool import PgPool
from eventbus._webhooks._model import Endpoint
from eventbus._webhooks._signature import WebhookSecret

__all__ = [
    "EndpointStore",
    "PostgresEndpointStore",
    "SqliteEndpointStore",
    "UnknownEndpointError",
    "open_endpoint_store",
]

_TABLE = "eventbus_webhook_endpoints"


def _to_row(endpoint: Endpoint) -> tuple[str, str, bool, str]:
    doc = endpoint.summary()
    doc["secrets"] = [s.reveal() for s in endpoint.secrets]
    return endpoint.id, endpoint.url, endpoint.enabled, msgspec.json.encode(doc).decode()


def _from_row(endpoint_id: str, url: str, enabled: Any, spec: str | bytes) -> Endpoint:
    doc = msgspec.json.decode(spec)
    return Endpoint(
        id=endpoint_id,
        url=url,
        event_types=tuple(doc["event_types"]),
        secrets=tuple(WebhookSecret.parse(s) for s in doc["secrets"]),
        content_mode=doc["content_mode"],
        timeout=doc["timeout"],
        rate_limit=doc["rate_limit"],
        enabled=bool(enabled),
        disabled_reason=doc["disabled_reason"],
        schedule=tuple(doc["schedule"]),
        handshake=doc["handshake"],
        description=doc.get("description", ""),
    )


class EndpointStore(Protocol):
    """Where endpoints live. ``get``/``update``/``remove`` of an unknown id raise LookupError
    (:class:`~eventbus.ConfigurationError`)."""

    name: str

    async def ensure_schema(self) -> None: ...
    async def add(self, endpoint: Endpoint) -> None: ...
    async def get(self, endpoint_id: str) -> Endpoint: ...
    async def list(self) -> list[Endpoint]: ...
    async def update(self, endpoint: Endpoint) -> None: ...
    async def remove(self, endpoint_id: str) -> None: ...
    async def close(self) -> None: ...


class UnknownEndpointError(WebhookError, ConfigurationError, LookupError):
    """No endpoint has this id."""

    def __init__(self, endpoint_id: str, store: str) -> None:
        self.endpoint_id = endpoint_id
        super().__init__(f"no webhook endpoint {endpoint_id!r} in {store}")


class SqliteEndpointStore:
    """Endpoints in the SQLite file ``path`` (a path or ``sqlite:///path.db``)."""

    def __init__(self, path: str | Path, *, table: str = _TABLE) -> None:
        self._path = sqlite_path(path)
        self._table = check_table_name(table)
        self.name = f"sqlite webhook endpoints {self._path}"
        self._worker = SqliteWorker(self._path, name=self.name)

    def __repr__(self) -> str:
        return f"SqliteEndpointStore({self._path!r})"

    async def ensure_schema(self) -> None:
        sql = (
            f"CREATE TABLE IF NOT EXISTS {self._table} (id TEXT PRIMARY KEY, url TEXT NOT NULL, "
            "enabled INTEGER NOT NULL, spec TEXT NOT NULL)"
        )
        await self._worker.run(lambda conn: transaction(conn, lambda: conn.execute(sql)))

    async def add(self, endpoint: Endpoint) -> None:
        sql = f"INSERT INTO {self._table} (id, url, enabled, spec) VALUES (?, ?, ?, ?)"
        await self._worker.run(lambda conn: conn.execute(sql, _to_row(endpoint)))

    async def get(self, endpoint_id: str) -> Endpoint:
        sql = f"SELECT id, url, enabled, spec FROM {self._table} WHERE id = ?"
        row = await self._worker.run(lambda conn: conn.execute(sql, (endpoint_id,)).fetchone())
        if row is None:
            raise UnknownEndpointError(endpoint_id, self.name)
        return _from_row(*row)

    async def list(self) -> list[Endpoint]:
        sql = f"SELECT id, url, enabled, spec FROM {self._table} ORDER BY id"
        rows = await self._worker.run(lambda conn: conn.execute(sql).fetchall())
        return [_from_row(*row) for row in rows]

    async def update(self, endpoint: Endpoint) -> None:
        endpoint_id, url, enabled, spec = _to_row(endpoint)
        sql = f"UPDATE {self._table} SET url = ?, enabled = ?, spec = ? WHERE id = ?"

        def run(conn: sqlite3.Connection) -> int:
            return conn.execute(sql, (url, enabled, spec, endpoint_id)).rowcount

        if await self._worker.run(run) == 0:
            raise UnknownEndpointError(endpoint_id, self.name)

    async def remove(self, endpoint_id: str) -> None:
        sql = f"DELETE FROM {self._table} WHERE id = ?"
        count = await self._worker.run(lambda conn: conn.execute(sql, (endpoint_id,)).rowcount)
        if count == 0:
            raise UnknownEndpointError(endpoint_id, self.name)

    async def close(self) -> None:
        await self._worker.close()


class PostgresEndpointStore:
    """Endpoints in the PostgreSQL database at ``url``."""

    def __init__(self, url: str, *, table: str = _TABLE, pool_size: int = 2) -> None:
        self._table = check_table_name(table)
        self._pool = PgPool(url, size=pool_size, what="postgres webhook endpoints")
        self._url = redact_url(url)
        self.name = self._pool.name

    def __repr__(self) -> str:
        return f"PostgresEndpointStore({self._url!r})"

    async def ensure_schema(self) -> None:
        async with self._pool.connection("creating the webhook endpoints table") as conn:
            await self._pool.create_schema(
                conn,
                f"CREATE TABLE IF NOT EXISTS {self._table} (id TEXT PRIMARY KEY, "
                "url TEXT NOT NULL, enabled BOOLEAN NOT NULL, spec TEXT NOT NULL)",
            )

    async def add(self, endpoint: Endpoint) -> None:
        async with self._pool.connection("adding a webhook endpoint") as conn:
            await conn.execute(
                f"INSERT INTO {self._table} (id, url, enabled, spec) VALUES (%s, %s, %s, %s)",
                _to_row(endpoint),
            )

    async def get(self, endpoint_id: str) -> Endpoint:
        async with self._pool.connection("reading a webhook endpoint") as conn:
            cur = await conn.execute(
                f"SELECT id, url, enabled, spec FROM {self._table} WHERE id = %s", (endpoint_id,)
            )
            row = await cur.fetchone()
        if row is None:
            raise UnknownEndpointError(endpoint_id, self.name)
        return _from_row(*row)

    async def list(self) -> list[Endpoint]:
        async with self._pool.connection("listing webhook endpoints") as conn:
            cur = await conn.execute(
                f"SELECT id, url, enabled, spec FROM {self._table} ORDER BY id"
            )
            rows = await cur.fetchall()
        return [_from_row(*row) for row in rows]

    async def update(self, endpoint: Endpoint) -> None:
        endpoint_id, url, enabled, spec = _to_row(endpoint)
        async with self._pool.connection("updating a webhook endpoint") as conn:
            cur = await conn.execute(
                f"UPDATE {self._table} SET url = %s, enabled = %s, spec = %s WHERE id = %s",
                (url, enabled, spec, endpoint_id),
            )
            if cur.rowcount == 0:
                raise UnknownEndpointError(endpoint_id, self.name)

    async def remove(self, endpoint_id: str) -> None:
        async with self._pool.connection("removing a webhook endpoint") as conn:
            cur = await conn.execute(f"DELETE FROM {self._table} WHERE id = %s", (endpoint_id,))
            if cur.rowcount == 0:
                raise UnknownEndpointError(endpoint_id, self.name)

    async def close(self) -> None:
        await self._pool.close()


def open_endpoint_store(url: str | Path, *, table: str = _TABLE) -> EndpointStore:
    """The endpoint store at ``sqlite:///path.db`` (or a plain path) or ``postgresql://...``."""
    if isinstance(url, Path) or not url.startswith(("postgresql://", "postgres://")):
        if isinstance(url, str) and "://" in url and not url.startswith("sqlite:"):
            raise ConfigurationError(
                f"unsupported webhook store URL {redact_url(url)!r}: "
                "use sqlite:///path.db or postgresql://user:password@host/database"
            )
        return SqliteEndpointStore(url, table=table)
    return PostgresEndpointStore(url, table=table)
