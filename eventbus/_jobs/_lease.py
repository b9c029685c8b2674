"""Leases: durable jobs on a bus whose broker cannot redeliver (core NATS).

Such a broker (``Semantic.AT_LEAST_ONCE`` unsupported) never gives a job event back when the
worker holding it dies, so without more the job would stay ``running`` for ever. With a lease
(``Jobs(lease=...)``; on by default on those buses):

- ``submit`` keeps the job's event in its record (``request``, never shown to clients);
- the worker that starts an attempt writes ``lease`` = now + the lease and renews it every third
  of the lease while the handler runs (a renewal is no change clients see: no status event); a
  failed attempt waiting for its in-process retry keeps a lease as well;
- every ``Jobs`` on such a bus (clients, workers, the HTTP front) sweeps its store every half
  lease while it is in use: a ``running`` or ``pending`` job whose lease has passed goes back to
  ``pending`` with the error ``WorkerLost`` (``failed`` once it had ``max_attempts``) and its
  event is published again. The compare-and-set write lets one sweeper win, so the event is
  published once per lost attempt; the next worker starts the next attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import msgspec

from eventbus._adapter._contract import Semantic
from eventbus._errors import ConfigurationError
from eventbus._jobs._model import JobErrorInfo, JobState, JobStatus, utc_now
from eventbus._wire._format import from_json

if TYPE_CHECKING:
    from eventbus._bus._eventbus import EventBus
    from eventbus._jobs._jobs import Jobs

__all__ = ["DEFAULT_LEASE", "Sweeper", "holding", "lease_seconds", "lease_until", "sweep"]

log = logging.getLogger("eventbus")

#: Seconds a worker holds a job without renewing, on buses that cannot redeliver.
DEFAULT_LEASE = 30.0
#: Jobs of each state looked at per sweep (the oldest leases are the newest jobs' rarely).
_SWEEP_LIMIT = 1000
_LOST = "WorkerLost"


def lease_seconds(bus: EventBus, lease: float | None) -> float | None:
    """The lease of a ``Jobs`` on ``bus``: ``lease`` if given, else DEFAULT_LEASE where the
    broker cannot redeliver and None (no lease: the broker redelivers) where it can."""
    if lease is None:
        can_redeliver = bus.adapter.capabilities.has(Semantic.AT_LEAST_ONCE)
        return None if can_redeliver else DEFAULT_LEASE
    if isinstance(lease, bool) or not isinstance(lease, int | float) or not lease > 0:
        raise ConfigurationError(f"lease must be a number of seconds > 0, got {lease!r}")
    return float(lease)


def lease_until(seconds: float | None, now: datetime) -> datetime | None:
    return None if seconds is None else now + timedelta(seconds=seconds)


def _renew(attempt: int, seconds: float) -> Callable[[JobStatus], JobStatus | None]:
    def renew(cur: JobStatus) -> JobStatus | None:
        if cur.state is not JobState.RUNNING or cur.attempts != attempt:
            return None  # no longer ours: final, or taken back by a sweeper
        return msgspec.structs.replace(cur, lease=lease_until(seconds, utc_now()))

    return renew


@contextlib.asynccontextmanager
async def holding(jobs: Jobs, job_id: str, attempt: int) -> AsyncIterator[None]:
    """Renew the lease of attempt ``attempt`` of the job while the block runs."""
    seconds = jobs.lease
    if seconds is None:
        yield
        return

    async def renew() -> None:
        while True:
            await asyncio.sleep(seconds / 3)
            try:
                await _write(jobs, job_id, _renew(attempt, seconds))
            except Exception as exc:  # the next renewal (or the sweeper) settles it
                log.warning("eventbus: renewing the lease of job %s failed: %r", job_id, exc)

    task = asyncio.create_task(renew(), name=f"eventbus-job-lease-{job_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _reclaim(max_attempts: int) -> Callable[[JobStatus], JobStatus | None]:
    def reclaim(cur: JobStatus) -> JobStatus | None:
        now = utc_now()
        if cur.final or cur.lease is None or cur.lease > now:
            return None
        error = JobErrorInfo(
            _LOST, f"attempt {cur.attempts} was not finished or renewed within its lease"
        )
        if cur.attempts >= max_attempts:
            return msgspec.structs.replace(
                cur, state=JobState.FAILED, error=error, lease=None, finished=now
            )
        return msgspec.structs.replace(cur, state=JobState.PENDING, error=error, lease=None)

    return reclaim


async def sweep(jobs: Jobs) -> int:
    """Dispatch again every job whose lease has passed; returns how many this call took back."""
    now = utc_now()
    taken = 0
    for state in (JobState.RUNNING, JobState.PENDING):
        for found in await jobs.store.list(state=state, limit=_SWEEP_LIMIT):
            if found.lease is None or found.lease > now:
                continue
            status = await _write(jobs, found.id, _reclaim(jobs.max_attempts))
            if status is None:
                continue  # another sweeper (or the worker) got there first
            taken += 1
            await jobs._announce(status, progress=False)
            if status.state is JobState.PENDING and status.request is not None:
                await _dispatch(jobs, status)
    return taken


async def _write(
    jobs: Jobs, job_id: str, step: Callable[[JobStatus], JobStatus | None]
) -> JobStatus | None:
    """Compare-and-set ``step`` (as ``apply`` does, but also pending -> pending, which only a
    lapsed lease makes); the new status, or None if ``step`` declined or the job is gone."""
    while True:
        current = await jobs.store.get(job_id)
        proposed = None if current is None else step(current)
        if current is None or proposed is None:
            return None
        new = msgspec.structs.replace(proposed, version=current.version + 1, updated=utc_now())
        if await jobs.store.replace(new):
            return new


async def _dispatch(jobs: Jobs, status: JobStatus) -> None:
    assert status.request is not None
    event: Any = from_json(status.request.encode())
    try:
        await jobs.bus.publish(event)
    except Exception as exc:  # give the job a lapsed lease again: the next sweep retries
        log.warning("eventbus: dispatching job %s again failed: %r", status.id, exc)

        def again(cur: JobStatus) -> JobStatus | None:
            if cur.state is not JobState.PENDING or cur.lease is not None:
                return None
            return msgspec.structs.replace(cur, lease=utc_now())

        await _write(jobs, status.id, again)


class Sweeper:
    """Runs :func:`sweep` every half lease while a ``Jobs`` is in use."""

    def __init__(self, jobs: Jobs, seconds: float) -> None:
        self._jobs = jobs
        self._seconds = seconds
        self._task: asyncio.Task[None] | None = None

    def ensure(self) -> None:
        """Start sweeping (call from the event loop; once is enough)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="eventbus-jobs-sweeper"
            )

    async def _run(self) -> None:
        while True:
            try:
                await sweep(self._jobs)
            except Exception as exc:
                log.warning("eventbus: sweeping jobs with a lapsed lease failed: %r", exc)
            await asyncio.sleep(self._seconds / 2)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
