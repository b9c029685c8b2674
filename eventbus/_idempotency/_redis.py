"""``RedisIdempotencyStore``: keys shared by consumers on many hosts, expiring by themselves.

One Redis string per key: ``p:<owner>`` while claimed (with the lease as its TTL), ``d`` once done
(with the retention window as its TTL). A claim is ``SET NX PX``; release and extend compare the
owner in a Lua script, so they are atomic. Redis expires old keys itself: ``cleanup`` has nothing
to do. Needs ``pip install "eventbus[redis]"`` (the ``redis`` package's asyncio client).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from eventbus._idempotency._store import DEFAULT_RETENTION, ClaimStatus, check_retention
from eventbus._store._redisconn import RedisConn

__all__ = ["RedisIdempotencyStore"]

T = TypeVar("T")
_DONE = b"d"
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
_EXTEND = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class RedisIdempotencyStore:
    """Idempotency keys in Redis: ``RedisIdempotencyStore("redis://host:6379/0")``.

    ``client``: an existing ``redis.asyncio.Redis`` instead of a URL (the store then leaves it
    open on :meth:`close`). ``prefix`` starts every Redis key.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "eventbus:idempotency:",
        retention: float = DEFAULT_RETENTION,
    ) -> None:
        self._retention = check_retention(retention)
        self._prefix = prefix
        self._conn = RedisConn(url, client=client, what="redis idempotency store")
        self._target = self._conn.target
        self._client = self._conn.client
        self._release = self._conn.script(_RELEASE)
        self._extend = self._conn.script(_EXTEND)

    def __repr__(self) -> str:
        return f"RedisIdempotencyStore({self._target!r})"

    @property
    def retention(self) -> float:
        return self._retention

    async def _call(self, what: str, fn: Callable[[], Awaitable[T]]) -> T:
        return await self._conn.call(what, fn)

    async def claim(self, key: str, owner: str, lease: float) -> ClaimStatus:
        name, mine = self._prefix + key, b"p:" + owner.encode()
        client = self._client
        while True:
            if await self._call("claim", lambda: client.set(name, mine, nx=True, px=_ms(lease))):
                return ClaimStatus.CLAIMED
            value = await self._call("claim", lambda: client.get(name))
            if value is None:
                continue  # expired between the two calls: try again
            if value == _DONE:
                return ClaimStatus.DUPLICATE
            if value == mine:
                await self.extend(key, owner, lease)
                return ClaimStatus.CLAIMED
            return ClaimStatus.IN_PROGRESS

    async def extend(self, key: str, owner: str, lease: float) -> bool:
        args = [b"p:" + owner.encode(), _ms(lease)]
        result = await self._call(
            "extend", lambda: self._extend(keys=[self._prefix + key], args=args)
        )
        return bool(result)

    async def commit(self, key: str, owner: str) -> None:
        ms = _ms(self._retention)
        await self._call("commit", lambda: self._client.set(self._prefix + key, _DONE, px=ms))

    async def release(self, key: str, owner: str) -> None:
        args = [b"p:" + owner.encode()]
        await self._call("release", lambda: self._release(keys=[self._prefix + key], args=args))

    async def cleanup(self) -> int:
        return 0  # every key carries its own TTL

    async def close(self) -> None:
        await self._conn.close()
