"""Durable jobs on core NATS, which never redelivers: leases.

A worker SIGKILLed while it holds jobs leaves them ``running``; once their lease lapses they are
dispatched again (once each, though the client and the second worker both sweep) and the next
worker finishes them as attempt 2. A live worker renews the lease of a job that runs longer
than the lease, so that job is not dispatched twice.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jobs_procs import runs, start_worker
from nats_launcher import NatsServer

from eventbus import ConfigurationError, Event, EventBus, Jobs, JobState, SqliteJobStore
from eventbus.testing import run

SCRIPT = Path(__file__).with_name("jobs_lease_proc.py")
N = 5


def test_jobs_of_a_killed_worker_are_dispatched_again_once(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url = nats_server.url("mode=core")
    kind = f"joblease.t{uuid.uuid4().hex[:8]}"
    store_path, first_out, second_out = tmp_path / "jobs.db", tmp_path / "a.txt", tmp_path / "b.txt"
    workers: list[subprocess.Popen[str]] = []

    async def scenario() -> None:
        async with EventBus(url) as bus:
            jobs = Jobs(bus, SqliteJobStore(store_path), lease=1.0, poll_interval=0.1)
            try:
                workers.append(start_worker(SCRIPT, url, kind, store_path, first_out, 600))
                ids = [
                    (await jobs.submit(Event(type=kind, source="/t", data=n))).id for n in range(N)
                ]
                for _ in range(600):  # the first worker holds every job
                    if len(runs(first_out)) == N:
                        break
                    await asyncio.sleep(0.05)
                assert sorted(i for i, _ in runs(first_out)) == sorted(ids)
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait(10)
                workers.append(start_worker(SCRIPT, url, kind, store_path, second_out, 0))
                for job_id in ids:
                    done = await jobs.wait(job_id, timeout=30)
                    assert done.state is JobState.SUCCEEDED, done
                    assert done.attempts == 2 and done.result == {"attempt": 2}
                    assert done.lease is None
                # Dispatched again once per lost attempt: the second worker ran each job once.
                assert Counter(runs(second_out)) == Counter((i, 2) for i in ids)
            finally:
                await jobs.close()

    try:
        run(scenario(), timeout=120)
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()


def test_a_live_worker_renews_the_lease_of_a_long_job(
    nats_server: NatsServer, tmp_path: Path
) -> None:
    url = nats_server.url("mode=core")
    kind = f"joblease.t{uuid.uuid4().hex[:8]}"
    runs: list[int] = []

    async def scenario() -> None:
        async with EventBus(url) as bus:
            jobs = Jobs(bus, SqliteJobStore(tmp_path / "jobs.db"), lease=0.6, poll_interval=0.1)
            try:

                async def work(event: Event[Any]) -> None:
                    runs.append(1)
                    await asyncio.sleep(2.5)  # four times the lease

                await jobs.worker(kind, work)
                job = await jobs.submit(Event(type=kind, source="/t"))
                done = await jobs.wait(job.id, timeout=30)
                assert done.state is JobState.SUCCEEDED and done.attempts == 1
                assert await jobs.recover() == 0
            finally:
                await jobs.close()

    run(scenario(), timeout=60)
    assert runs == [1]


def test_the_lease_follows_the_brokers_redelivery(nats_server: NatsServer, tmp_path: Path) -> None:
    async def scenario() -> None:
        store = SqliteJobStore(tmp_path / "jobs.db")
        async with (
            EventBus(nats_server.url("mode=core")) as core,
            EventBus(nats_server.url()) as js,
        ):
            assert Jobs(core, store).lease == 30.0  # core NATS never redelivers
            assert Jobs(js, store).lease is None  # JetStream redelivers after ack_wait
            assert Jobs(js, store, lease=5).lease == 5.0
            for bad in (0, -1, True, "5"):
                with pytest.raises(ConfigurationError, match="lease must be"):
                    Jobs(core, store, lease=bad)  # type: ignore[arg-type]
        await store.close()

    run(scenario())
