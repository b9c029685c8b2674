"""The JobStore contract against every store on a real server: SQLite (a file), Redis and
PostgreSQL (started once per session by the fixtures); and the Jobs state machine on each."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from servers import PostgresServer, RedisServer

from eventbus import (
    ConfigurationError,
    Event,
    EventBus,
    Jobs,
    JobState,
    JobStatus,
    JobStore,
    PostgresJobStore,
    RedisJobStore,
    SqliteJobStore,
    StoreError,
    open_job_store,
)

KINDS = ["sqlite", "redis", "postgres"]


@pytest.fixture(params=KINDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[JobStore]:
    table = f"jobs_{uuid.uuid4().hex[:10]}"
    made: JobStore
    if request.param == "sqlite":
        made = SqliteJobStore(tmp_path / "jobs.db", table=table)
    elif request.param == "redis":
        server: RedisServer = request.getfixturevalue("redis_server")
        made = RedisJobStore(server.url, prefix=f"{table}:")
    else:
        pg: PostgresServer = request.getfixturevalue("postgres_server")
        made = PostgresJobStore(pg.url(), table=table)
    yield made
    await made.close()


def _job(key: str | None = None, kind: str = "t.job", created: datetime | None = None) -> JobStatus:
    now = created or datetime.now(UTC)
    return JobStatus(
        id=uuid.uuid4().hex, type=kind, state=JobState.PENDING, created=now, updated=now, key=key
    )


async def test_insert_get_and_the_key_is_unique(store: JobStore) -> None:
    first = _job(key="k-1")
    assert await store.insert(first) == (first, True)
    assert await store.get(first.id) == first
    other = _job(key="k-1")
    found, created = await store.insert(other)
    assert not created and found == first
    assert await store.get(other.id) is None
    keyless = [_job(), _job()]
    for job in keyless:
        assert (await store.insert(job))[1]  # no key: never a conflict
    assert await store.get("nope") is None


async def test_replace_is_compare_and_set(store: JobStore) -> None:
    job = _job()
    await store.insert(job)
    running = msgspec.structs.replace(job, state=JobState.RUNNING, version=2, attempts=1)
    cancelled = msgspec.structs.replace(job, state=JobState.CANCELLED, version=2)
    # both computed from version 1: only the first write wins
    results = [await store.replace(running), await store.replace(cancelled)]
    assert results == [True, False]
    assert await store.get(job.id) == running
    done = msgspec.structs.replace(running, state=JobState.SUCCEEDED, version=3, result=[1, 2])
    assert await store.replace(done)
    assert not await store.replace(done)  # the same version twice: stale
    assert (await store.get(job.id)) == done
    assert not await store.replace(msgspec.structs.replace(done, id="gone", version=2))


async def test_concurrent_replaces_have_exactly_one_winner(store: JobStore) -> None:
    job = _job()
    await store.insert(job)
    attempts = [
        msgspec.structs.replace(job, state=JobState.RUNNING, version=2, attempts=n)
        for n in range(1, 21)
    ]
    won = await asyncio.gather(*(store.replace(a) for a in attempts))
    assert sum(won) == 1
    stored = await store.get(job.id)
    assert stored is not None and stored.attempts == won.index(True) + 1


async def test_delete_is_compare_and_set_and_frees_the_key(store: JobStore) -> None:
    job = _job(key="k-del")
    await store.insert(job)
    assert not await store.delete(job.id, 7)
    assert await store.delete(job.id, 1)
    assert await store.get(job.id) is None
    again = _job(key="k-del")
    assert (await store.insert(again))[1]


async def test_list_newest_first_with_filters(store: JobStore) -> None:
    base = datetime(2030, 1, 1, tzinfo=UTC)
    jobs = [_job(kind="a" if n % 2 else "b", created=base + timedelta(seconds=n)) for n in range(6)]
    for job in jobs:
        await store.insert(job)
    await store.replace(msgspec.structs.replace(jobs[5], state=JobState.RUNNING, version=2))
    listed = await store.list()
    assert [j.id for j in listed] == [j.id for j in reversed(jobs)]
    assert [j.id for j in await store.list(limit=2)] == [jobs[5].id, jobs[4].id]
    assert [j.id for j in await store.list(type="a")] == [jobs[5].id, jobs[3].id, jobs[1].id]
    assert [j.id for j in await store.list(state=JobState.RUNNING)] == [jobs[5].id]
    assert [j.id for j in await store.list(state=JobState.PENDING, type="a")] == [
        jobs[3].id,
        jobs[1].id,
    ]
    with pytest.raises(ConfigurationError, match="limit"):
        await store.list(limit=0)


async def test_jobs_run_to_their_final_state_on_each_store(store: JobStore) -> None:
    kind = f"stores.t{uuid.uuid4().hex[:8]}.work"
    async with EventBus("memory://") as bus:
        jobs = Jobs(bus, store, max_attempts=2)

        @jobs.worker(kind)
        async def work(event: Event[int]) -> int:
            assert event.data is not None
            if event.data < 0:
                raise ValueError("negative")
            return event.data * 2

        await asyncio.sleep(0.05)
        ok = await jobs.submit(Event(type=kind, source="/c", data=21), key=f"{kind}-ok")
        bad = await jobs.submit(Event(type=kind, source="/c", data=-1))
        assert (
            await jobs.submit(Event(type=kind, source="/c", data=0), key=f"{kind}-ok")
        ).id == ok.id
        done = await jobs.wait(ok.id, timeout=20)
        failed = await jobs.wait(bad.id, timeout=20)
        assert done.state is JobState.SUCCEEDED and done.result == 42
        assert failed.state is JobState.FAILED and failed.attempts == 2
        assert (await jobs.cancel(ok.id)).state is JobState.SUCCEEDED


async def test_open_job_store_picks_the_store_by_url(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    stores = [
        open_job_store(tmp_path / "a.db"),
        open_job_store(f"sqlite:///{tmp_path}/b.db"),
        open_job_store(str(tmp_path / "c.db")),
        open_job_store(redis_server.url),
        open_job_store("postgresql://user:secret@127.0.0.1:1/db"),
    ]
    assert [type(s).__name__ for s in stores] == [
        "SqliteJobStore",
        "SqliteJobStore",
        "SqliteJobStore",
        "RedisJobStore",
        "PostgresJobStore",
    ]
    assert "secret" not in stores[-1].name
    for made in stores:
        await made.close()


async def test_store_errors_are_typed_and_keep_secrets_out(tmp_path: Path) -> None:
    store = PostgresJobStore("postgresql://user:hunter2@127.0.0.1:1/db")
    with pytest.raises(StoreError) as info:
        await store.get("x")
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value)
    await store.close()
    redis = RedisJobStore("redis://:hunter2@127.0.0.1:1/0")
    with pytest.raises(StoreError) as rinfo:
        await redis.get("x")
    assert "hunter2" not in str(rinfo.value)
    await redis.close()
    with pytest.raises(ConfigurationError, match="in-memory"):
        SqliteJobStore(":memory:")
    with pytest.raises(ConfigurationError, match="table name"):
        SqliteJobStore(tmp_path / "x.db", table="jobs; drop")
