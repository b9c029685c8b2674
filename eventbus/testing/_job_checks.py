"""Durable-job scenarios of the conformance suite (mixed into ``AdapterConformance``).

A client bus submits jobs and a worker bus runs them, on the same broker, with their status in
one SQLite file (two store connections, as two processes would have): success with progress and
status events, an idempotent submit, a retried attempt, a job failing for good, cancellation of
a running job and a deadline.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import pytest

from eventbus._adapter._contract import Capabilities, Semantic
from eventbus._bus._eventbus import EventBus
from eventbus._jobs import JobCancelledError, Jobs, JobState, SqliteJobStore, current_job
from eventbus._wire._event import Event

__all__ = ["JobChecks"]


def _run(coro: Any, timeout: float = 300.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def _until(predicate: Any, what: str, timeout: float = 90.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def _require_groups(capabilities: Capabilities) -> None:
    """Workers share jobs through a consumer group: without one there is nothing to check."""
    if not capabilities.has(Semantic.CONSUMER_GROUPS):
        pytest.skip("adapter lacks consumer-groups")


class JobChecks:
    """``Jobs`` end to end on the adapter under test."""

    @property
    def job_ack_wait(self) -> float:
        """The workers' ack wait: the suite's short one (the broker's lock duration where the
        test broker sets one), so that a long job's lock is renewed in time."""
        return float(getattr(self, "short_ack_wait", 30.0))

    async def started(self, *subs: Awaitable[Any]) -> None:  # overridden by AdapterConformance
        for sub in subs:
            await sub

    def test_jobs_succeed_retry_fail_and_submit_idempotently(
        self, bus_url: str, prefix: str, tmp_path: Path, capabilities: Capabilities
    ) -> None:
        _require_groups(capabilities)
        kind = f"{prefix}.job"
        runs: Counter[int] = Counter()

        async def scenario() -> None:
            async with EventBus(bus_url) as worker_bus, EventBus(bus_url) as client_bus:
                worker_store = SqliteJobStore(tmp_path / "jobs.db")
                client_store = SqliteJobStore(tmp_path / "jobs.db")
                workers = Jobs(
                    worker_bus, worker_store, max_attempts=2, events_prefix=f"{prefix}.st"
                )
                client = Jobs(client_bus, client_store, poll_interval=0.05)
                finals: list[Event[Any]] = []

                async def record(event: Event[Any]) -> None:
                    finals.append(event)

                async def work(event: Event[int]) -> dict[str, int]:
                    assert event.data is not None
                    n = event.data
                    runs[n] += 1
                    await current_job().progress(0.5)
                    attempt = current_job().attempt
                    if n == 1 or (n == 0 and attempt == 1):
                        raise RuntimeError(f"attempt {attempt} of {n} failed")
                    return {"n": n, "attempt": current_job().attempt}

                await self.started(
                    workers.worker(kind, work, max_in_flight=4, ack_wait=self.job_ack_wait),
                    client_bus.subscribe(f"{prefix}.st.succeeded", record),
                    client_bus.subscribe(f"{prefix}.st.failed", record),
                )
                submitted = [
                    await client.submit(Event(type=kind, source="/c", data=n), key=f"{prefix}-{n}")
                    for n in range(8)
                ]
                again = await client.submit(
                    Event(type=kind, source="/c", data=2), key=f"{prefix}-2"
                )
                assert again.id == submitted[2].id
                done = [await client.wait(s.id, timeout=150) for s in submitted]
                assert [d.state for d in done] == [
                    JobState.SUCCEEDED,
                    JobState.FAILED,
                    *[JobState.SUCCEEDED] * 6,
                ]
                # (a broker whose lock ran out may deliver a job twice at once: one run wins)
                assert done[0].result["n"] == 0 and done[0].result["attempt"] >= 2
                assert done[1].attempts >= 2 and done[1].error is not None
                assert done[1].error.message.startswith("attempt ")
                assert [d.result["n"] for d in done[2:]] == list(range(2, 8))
                assert client.stats.duplicates == 1
                assert len(await client.list(type=kind)) == 8
                await _until(lambda: len(finals) >= 8, "the final status events")
                await asyncio.sleep(0.2)
                # one final transition per job (an event may come twice: at least once)
                versions = {
                    (str(e.extensions["jobid"]), str(e.extensions["jobversion"])) for e in finals
                }
                assert Counter(job for job, _ in versions) == Counter({s.id: 1 for s in submitted})
                await worker_store.close()
                await client_store.close()

        _run(scenario())

    def test_jobs_cancel_and_deadline(
        self, bus_url: str, prefix: str, tmp_path: Path, capabilities: Capabilities
    ) -> None:
        _require_groups(capabilities)
        kind = f"{prefix}.job"

        async def scenario() -> None:
            async with EventBus(bus_url) as worker_bus, EventBus(bus_url) as client_bus:
                worker_store = SqliteJobStore(tmp_path / "jobs.db")
                client_store = SqliteJobStore(tmp_path / "jobs.db")
                workers = Jobs(worker_bus, worker_store, events_prefix=f"{prefix}.st")
                client = Jobs(client_bus, client_store, poll_interval=0.05, status_events=False)
                running: set[str] = set()
                stopped: list[str] = []

                async def long(event: Event[Any]) -> None:
                    job = current_job()
                    running.add(job.id)
                    try:
                        while True:
                            await job.progress(None, "working")
                            await asyncio.sleep(0.05)
                    except JobCancelledError:
                        stopped.append(job.id)
                        raise

                await self.started(workers.worker(kind, long, ack_wait=self.job_ack_wait))
                to_cancel = await client.submit(Event(type=kind, source="/c"))
                to_expire = await client.submit(Event(type=kind, source="/c"), deadline=2.0)
                await _until(lambda: to_cancel.id in running, "the job to start")
                assert (await client.cancel(to_cancel.id)).state is JobState.CANCELLED
                await _until(lambda: to_cancel.id in stopped, "the handler to stop")
                expired = await client.wait(to_expire.id, timeout=150)
                assert expired.state is JobState.EXPIRED
                assert (await client.status(to_cancel.id)).state is JobState.CANCELLED
                await worker_store.close()
                await client_store.close()

        _run(scenario())
