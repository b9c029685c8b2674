"""The IdempotencyStore contract, run against every store: memory, SQLite, Redis and PostgreSQL
(the last two on real servers started by the session fixtures)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from servers import PostgresServer, RedisServer

from eventbus import (
    ClaimStatus,
    ConfigurationError,
    IdempotencyStore,
    MemoryIdempotencyStore,
    PostgresIdempotencyStore,
    RedisIdempotencyStore,
    SqliteIdempotencyStore,
    StoreError,
)

StoreFactory = Callable[..., IdempotencyStore]
KINDS = ["memory", "sqlite", "redis", "postgres"]


@pytest.fixture(params=KINDS)
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[StoreFactory]:
    """A factory of stores of one kind; every store made is closed after the test."""
    made: list[IdempotencyStore] = []
    kind = request.param
    table = f"idem_{uuid.uuid4().hex[:10]}"

    def make(**options: float) -> IdempotencyStore:
        store: IdempotencyStore
        if kind == "memory":
            store = MemoryIdempotencyStore(**options)
        elif kind == "sqlite":
            store = SqliteIdempotencyStore(tmp_path / "idem.db", **options)
        elif kind == "redis":
            server: RedisServer = request.getfixturevalue("redis_server")
            store = RedisIdempotencyStore(server.url, prefix=f"{table}:", **options)
        else:
            pg: PostgresServer = request.getfixturevalue("postgres_server")
            store = PostgresIdempotencyStore(pg.url(), table=table, **options)
        made.append(store)
        return store

    yield make
    for store in made:
        await store.close()


async def test_claim_commit_duplicate(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.claim("k1", "a", 10) is ClaimStatus.CLAIMED
    assert await store.claim("k1", "b", 10) is ClaimStatus.IN_PROGRESS
    assert await store.claim("k1", "a", 10) is ClaimStatus.CLAIMED  # same owner again
    await store.commit("k1", "a")
    assert await store.claim("k1", "b", 10) is ClaimStatus.DUPLICATE
    assert await store.claim("k1", "a", 10) is ClaimStatus.DUPLICATE
    assert await store.claim("k2", "b", 10) is ClaimStatus.CLAIMED  # keys are independent


async def test_release_frees_only_the_owners_claim(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.claim("k", "a", 10) is ClaimStatus.CLAIMED
    await store.release("k", "b")  # not the owner: nothing happens
    assert await store.claim("k", "b", 10) is ClaimStatus.IN_PROGRESS
    await store.release("k", "a")
    assert await store.claim("k", "b", 10) is ClaimStatus.CLAIMED
    await store.commit("k", "b")
    await store.release("k", "b")  # a done key is never released
    assert await store.claim("k", "c", 10) is ClaimStatus.DUPLICATE


async def test_a_crashed_claim_expires_after_its_lease(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.claim("k", "dead", 0.5) is ClaimStatus.CLAIMED
    assert await store.claim("k", "live", 10) is ClaimStatus.IN_PROGRESS
    await asyncio.sleep(0.7)
    assert await store.claim("k", "live", 10) is ClaimStatus.CLAIMED
    # The late original owner can neither extend nor release the new owner's claim.
    assert await store.extend("k", "dead", 10) is False
    await store.release("k", "dead")
    assert await store.claim("k", "third", 10) is ClaimStatus.IN_PROGRESS


async def test_extend_keeps_a_claim_past_its_first_lease(make_store: StoreFactory) -> None:
    store = make_store()
    assert await store.claim("k", "a", 0.6) is ClaimStatus.CLAIMED
    await asyncio.sleep(0.2)
    assert await store.extend("k", "a", 2.0) is True
    await asyncio.sleep(0.6)  # past the first lease, within the extended one
    assert await store.claim("k", "b", 10) is ClaimStatus.IN_PROGRESS


async def test_done_keys_are_forgotten_after_the_retention_window(make_store: StoreFactory) -> None:
    store = make_store(retention=1.0)
    assert store.retention == 1.0
    for key in ("k1", "k2"):
        assert await store.claim(key, "a", 10) is ClaimStatus.CLAIMED
        await store.commit(key, "a")
    assert await store.claim("k1", "b", 10) is ClaimStatus.DUPLICATE
    await asyncio.sleep(1.2)
    deleted = await store.cleanup()
    assert deleted == 0 if isinstance(store, RedisIdempotencyStore) else deleted >= 1
    assert await store.claim("k1", "b", 10) is ClaimStatus.CLAIMED
    assert await store.claim("k2", "b", 10) is ClaimStatus.CLAIMED


async def test_concurrent_claims_have_one_winner(make_store: StoreFactory) -> None:
    stores = [make_store(), make_store()]  # two clients of one store (one file, one server)
    if isinstance(stores[0], MemoryIdempotencyStore):
        stores = [stores[0], stores[0]]
    results = await asyncio.gather(
        *(stores[i % 2].claim("contended", f"owner-{i}", 10) for i in range(20))
    )
    assert results.count(ClaimStatus.CLAIMED) == 1
    assert results.count(ClaimStatus.IN_PROGRESS) == 19


def test_bad_arguments_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="retention must be > 0"):
        MemoryIdempotencyStore(retention=0)
    with pytest.raises(ConfigurationError, match="not a plain SQL identifier"):
        SqliteIdempotencyStore(tmp_path / "x.db", table="x; drop table y")
    with pytest.raises(ConfigurationError, match="in-memory SQLite"):
        SqliteIdempotencyStore(":memory:")
    with pytest.raises(ConfigurationError, match="not a Redis URL"):
        RedisIdempotencyStore("http://user:hunter2@host")
    with pytest.raises(ConfigurationError, match="not a PostgreSQL URL") as info:
        PostgresIdempotencyStore("mysql://user:hunter2@host/db")
    assert "hunter2" not in str(info.value)


async def test_unreachable_servers_raise_store_errors_without_passwords() -> None:
    from servers import free_port

    port = free_port()  # nothing listens there
    redis_store = RedisIdempotencyStore(f"redis://user:hunter2@127.0.0.1:{port}/0")
    with pytest.raises(StoreError) as info:
        await redis_store.claim("k", "a", 1)
    assert "hunter2" not in str(info.value) and "redis" in str(info.value)
    await redis_store.close()
    pg_store = PostgresIdempotencyStore(f"postgresql://user:hunter2@127.0.0.1:{port}/db")
    with pytest.raises(StoreError) as info:
        await pg_store.claim("k", "a", 1)
    assert "hunter2" not in str(info.value) and "connecting" in str(info.value)
    assert "hunter2" not in repr(pg_store) and "hunter2" not in repr(redis_store)
    await pg_store.close()
