"""``RedisJobStore``: jobs in Redis, shared by services on many hosts.

One hash per job (``v``: version, ``b``: the JSON record), one string per idempotency key (the
job id) and one sorted set of job ids by creation time for listing. Insert, replace and delete
are Lua scripts, so each is atomic; a replace compares the stored version first
(compare-and-set). Runs on the store layer's :class:`~eventbus._store._redisconn.RedisConn`.
Needs ``pip install "eventbus[redis]"``.
"""

from __future__ import annotations

import functools
from typing import Any

from eventbus._jobs._model import JobState, JobStatus, decode_status, encode_status
from eventbus._jobs._store import check_limit
from eventbus._store._redisconn import RedisConn

__all__ = ["RedisJobStore"]

# KEYS: job hash, key string ('' when the job has no key), index; ARGV: id, version, body, created
_INSERT = """
if KEYS[2] ~= '' then
  local taken = redis.call('GET', KEYS[2])
  if taken then return taken end
  redis.call('SET', KEYS[2], ARGV[1])
end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'b', ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
return false
"""
# KEYS: job hash; ARGV: expected version, new version, body
_REPLACE = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'b', ARGV[3])
return 1
"""
# KEYS: job hash, key string (or ''), index; ARGV: version, id
_DELETE = """
if redis.call('HGET', KEYS[1], 'v') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[3], ARGV[2])
if KEYS[2] ~= '' then redis.call('DEL', KEYS[2]) end
return 1
"""


class RedisJobStore:
    """Jobs in Redis: ``RedisJobStore("redis://host:6379/0")`` or ``client=`` an existing
    ``redis.asyncio.Redis`` (left open on :meth:`close`). ``prefix`` starts every Redis key."""

    def __init__(
        self, url: str | None = None, *, client: Any = None, prefix: str = "eventbus_jobs:"
    ) -> None:
        self._conn = RedisConn(url, client=client, what="redis job store")
        self._prefix = prefix
        self._index = f"{prefix}index"
        self._insert = self._conn.script(_INSERT)
        self._replace = self._conn.script(_REPLACE)
        self._delete = self._conn.script(_DELETE)

    def __repr__(self) -> str:
        return f"RedisJobStore({self._conn.target!r})"

    @property
    def name(self) -> str:
        return self._conn.name

    def _job(self, job_id: str) -> str:
        return f"{self._prefix}job:{job_id}"

    def _key(self, key: str | None) -> str:
        return "" if key is None else f"{self._prefix}key:{key}"

    async def insert(self, status: JobStatus) -> tuple[JobStatus, bool]:
        keys = [self._job(status.id), self._key(status.key), self._index]
        args = [status.id, status.version, encode_status(status), status.created.timestamp()]
        while True:
            taken = await self._conn.call("insert", lambda: self._insert(keys=keys, args=args))
            if taken is None:
                return status, True
            existing = await self.get(taken.decode() if isinstance(taken, bytes) else taken)
            if existing is not None:
                return existing, False

    async def get(self, job_id: str) -> JobStatus | None:
        body = await self._conn.call("get", lambda: self._conn.client.hget(self._job(job_id), "b"))
        return None if body is None else decode_status(body)

    async def replace(self, status: JobStatus) -> bool:
        keys = [self._job(status.id)]
        args = [status.version - 1, status.version, encode_status(status)]
        done = await self._conn.call("replace", lambda: self._replace(keys=keys, args=args))
        return bool(done)

    async def delete(self, job_id: str, version: int) -> bool:
        current = await self.get(job_id)
        if current is None or current.version != version:
            return False
        keys = [self._job(job_id), self._key(current.key), self._index]
        done = await self._conn.call(
            "delete", lambda: self._delete(keys=keys, args=[version, job_id])
        )
        return bool(done)

    async def list(
        self, *, state: JobState | None = None, type: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        check_limit(limit)
        wanted = None if state is None else JobState(state)
        out: list[JobStatus] = []
        start, page = 0, max(limit, 100)
        client = self._conn.client
        while len(out) < limit:
            ids = await self._conn.call(
                "list", functools.partial(client.zrevrange, self._index, start, start + page - 1)
            )
            if not ids:
                break
            start += page
            names = [self._job(i.decode()) for i in ids]
            bodies = await self._conn.call("list", functools.partial(_hget_all, client, names))
            for body in bodies:
                if body is None:
                    continue
                status = decode_status(body)
                if (wanted is None or status.state is wanted) and (
                    type is None or status.type == type
                ):
                    out.append(status)
        return out[:limit]

    async def close(self) -> None:
        await self._conn.close()


async def _hget_all(client: Any, names: list[str]) -> list[Any]:
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hget(name, "b")
    return list(await pipe.execute())
