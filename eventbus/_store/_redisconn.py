"""A Redis connection for the Redis-backed stores (idempotency keys, job status).

Opens a ``redis.asyncio`` client from a URL (or wraps one the caller owns), runs Lua scripts
and turns every Redis or socket error into :class:`~eventbus.StoreError` naming the store by
its redacted URL; the driver's text is cleaned of the URL's secrets and chained only when it
held none, so no password reaches a log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from eventbus._errors import ConfigurationError, StoreError
from eventbus._redact import redact_text, redact_url
from eventbus._store._dbutil import require

__all__ = ["RedisConn"]

T = TypeVar("T")


class RedisConn:
    """``RedisConn(url)`` or ``RedisConn(client=...)``; ``what`` names the store in errors."""

    def __init__(self, url: str | None = None, *, client: Any = None, what: str) -> None:
        if (url is None) == (client is None):
            raise ConfigurationError("pass either a Redis URL or a redis.asyncio client")
        self._url = url or ""
        self.target = redact_url(url) if url else repr(client)
        self.name = f"{what} {self.target}"
        self._owns_client = client is None
        if client is None:
            assert url is not None
            if not url.startswith(("redis://", "rediss://", "unix://")):
                raise ConfigurationError(
                    f"not a Redis URL: {redact_url(url)!r} (expected redis://, rediss:// or unix://)"
                )
            asyncio_redis = require("redis.asyncio", "redis")
            try:
                client = asyncio_redis.Redis.from_url(url)
            except ValueError as exc:
                raise ConfigurationError(
                    f"not a usable Redis URL: {redact_url(url)!r}: {redact_text(str(exc), url)}"
                ) from None
        self.client = client
        self._errors: tuple[type[BaseException], ...] = (
            require("redis.exceptions", "redis").RedisError,
            OSError,
        )

    def script(self, source: str) -> Any:
        """A registered Lua script (call it with ``keys=[...]``, ``args=[...]`` through call)."""
        return self.client.register_script(source)

    async def call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Await ``fn()``; a Redis or socket error becomes StoreError."""
        try:
            return await fn()
        except self._errors as exc:
            raw = str(exc)
            clean = redact_text(raw, self._url)
            error = StoreError(f"{what} failed: {type(exc).__name__}: {clean}", store=self.name)
            raise error from (exc if clean == raw else None)

    async def close(self) -> None:
        if self._owns_client:
            await self.client.aclose()
