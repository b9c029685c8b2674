"""``Jobs``: submit durable jobs, read and wait for their status, cancel them, run workers.

Every status change goes through :meth:`Jobs._change`: read the record, compute the next one,
write it with compare-and-set, and only if the write won publish the status event, wake local
waiters and (on a final state) call the completion callback. A final state is never left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, overload

import msgspec

from eventbus._bus._eventbus import EventBus
from eventbus._bus._options import SubscribeOptions
from eventbus._bus._retry import RetryPolicy
from eventbus._errors import ConfigurationError
from eventbus._jobs._errors import JobConflictError, JobNotFoundError, JobTimeoutError
from eventbus._jobs._events import (
    DEFAULT_PREFIX,
    JOB_ID,
    JobCallback,
    PublishCompletion,
    status_event,
)
from eventbus._jobs._lease import Sweeper, lease_seconds, sweep
from eventbus._jobs._model import JobState, JobStatus, allowed, utc_now
from eventbus._jobs._store import DEFAULT_STORE, JobStore, open_job_store
from eventbus._jobs._worker import JobHandler, wrap_handler
from eventbus._wire._event import Event
from eventbus._wire._format import to_json

__all__ = ["JobStats", "Jobs", "apply", "cancel_in_store", "cancel_step"]

log = logging.getLogger("eventbus.jobs")
H = TypeVar("H", bound=JobHandler)
Step = Callable[[JobStatus], JobStatus | None]


@dataclass
class JobStats:
    """What this ``Jobs`` did. ``skipped``: job events a worker acked without running the
    handler (the job was final already); ``discarded``: results dropped because the job had
    reached a final state meanwhile; ``conflicts``: compare-and-set writes that lost a race
    and were computed again."""

    submitted: int = 0
    duplicates: int = 0
    started: int = 0
    retried: int = 0
    skipped: int = 0
    discarded: int = 0
    conflicts: int = 0
    event_errors: int = 0
    callback_errors: int = 0


class Jobs:
    """Durable jobs on ``bus`` with their status in ``store`` (a :class:`JobStore`, a URL or a
    SQLite path; default ``eventbus-jobs.db``). See docs/jobs.md.

    ``max_attempts``: runs of a job before it is ``failed``; ``status_events``: publish each
    change as ``<events_prefix>.<state>``; ``on_complete``: the :class:`JobCallback` for jobs
    that name a callback (default :class:`PublishCompletion`); ``poll_interval``: seconds
    between store reads in :meth:`wait` (changes made by this process wake it at once);
    ``lease``: seconds a worker holds a job without renewing it before it is dispatched again
    (default: 30 where the broker cannot redeliver, as core NATS; none where it can; see
    ``_lease``).
    """

    def __init__(
        self,
        bus: EventBus,
        store: JobStore | str | Path | None = None,
        *,
        max_attempts: int = 3,
        status_events: bool = True,
        events_prefix: str = DEFAULT_PREFIX,
        on_complete: JobCallback | None = None,
        poll_interval: float = 0.5,
        lease: float | None = None,
    ) -> None:
        if not isinstance(bus, EventBus):
            raise ConfigurationError(f"Jobs needs an EventBus, got {type(bus).__name__}")
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            raise ConfigurationError(f"max_attempts must be an int >= 1, got {max_attempts!r}")
        if not poll_interval > 0:
            raise ConfigurationError(f"poll_interval must be > 0 seconds, got {poll_interval!r}")
        if not isinstance(events_prefix, str) or not events_prefix:
            raise ConfigurationError(
                f"events_prefix must be a non-empty str, got {events_prefix!r}"
            )
        self._bus = bus
        self._owns_store = not isinstance(store, JobStore)
        self._store: JobStore = (
            store if isinstance(store, JobStore) else open_job_store(store or DEFAULT_STORE)
        )
        self.max_attempts = max_attempts
        self._events = status_events
        self._prefix = events_prefix
        self._on_complete = on_complete or PublishCompletion(bus, events_prefix)
        self._poll = poll_interval
        self._waiters: dict[str, asyncio.Event] = {}
        self.stats = JobStats()
        self.lease = lease_seconds(bus, lease)
        self._sweeper = None if self.lease is None else Sweeper(self, self.lease)

    def __repr__(self) -> str:
        return f"Jobs({self._bus!r}, store={self._store.name!r})"

    @property
    def store(self) -> JobStore:
        return self._store

    @property
    def bus(self) -> EventBus:
        return self._bus

    @property
    def events_prefix(self) -> str:
        """The type prefix of this ``Jobs``'s status and completion events."""
        return self._prefix

    async def __aenter__(self) -> Jobs:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stop sweeping lapsed leases; close the store if this ``Jobs`` opened it."""
        if self._sweeper is not None:
            await self._sweeper.stop()
        if self._owns_store:
            await self._store.close()

    # -- clients ------------------------------------------------------------------------------

    async def submit(
        self,
        event: Event[Any],
        *,
        key: str | None = None,
        deadline: float | timedelta | datetime | None = None,
        callback: str | None = None,
    ) -> JobStatus:
        """Store a ``pending`` job for ``event`` and publish the event (with the ``jobid``
        extension) to the workers; returns at once with the job's status (``status.id``).

        ``key``: an idempotency key; a second submit with the same key returns the first job
        (:class:`JobConflictError` if that job has another type) and publishes nothing.
        ``deadline``: seconds from now, a timedelta or an aware datetime; a job not finished
        by then ends ``expired``. ``callback``: a URL handed to the completion callback.
        If the publish fails, the job is deleted again (so a retry with the key starts anew)
        and the publish error is raised.
        """
        if not isinstance(event, Event):
            raise ConfigurationError(f"submit() takes an Event, got {type(event).__name__}")
        if key is not None and (not isinstance(key, str) or not key or len(key) > 255):
            raise ConfigurationError(
                f"key must be a non-empty str of at most 255 characters, got {key!r}"
            )
        if callback is not None and (not isinstance(callback, str) or not callback):
            raise ConfigurationError(f"callback must be a non-empty str (a URL), got {callback!r}")
        self._sweep()
        now = utc_now()
        job_id = uuid.uuid4().hex
        job_event = event.with_extensions(**{JOB_ID: job_id})
        status = JobStatus(
            id=job_id,
            type=event.type,
            state=JobState.PENDING,
            created=now,
            updated=now,
            key=key,
            deadline=_deadline(deadline, now),
            callback=callback,
            request=None if self.lease is None else to_json(job_event).decode(),
        )
        stored, created = await self._store.insert(status)
        if not created:
            if stored.type != event.type:
                raise JobConflictError(
                    f"idempotency key {key!r} belongs to job {stored.id} of type "
                    f"{stored.type!r}, not {event.type!r}",
                    job_id=stored.id,
                )
            self.stats.duplicates += 1
            return stored
        try:
            await self._bus.publish(job_event)
        except BaseException:
            await self._store.delete(status.id, status.version)
            raise
        self.stats.submitted += 1
        await self._announce(status, progress=False)
        return status

    async def status(self, job_id: str) -> JobStatus:
        """The job's current status (:class:`JobNotFoundError` if there is none); a job past
        its deadline is marked ``expired`` now."""
        self._sweep()
        status = await self._store.get(job_id)
        if status is None:
            raise JobNotFoundError(f"no job {job_id!r} in {self._store.name}", job_id=job_id)
        if status.is_overdue():
            status, _ = await self._change(job_id, _expire)
        return status

    async def wait(self, job_id: str, timeout: float | None = None) -> JobStatus:
        """Wait until the job is in a final state and return that status;
        :class:`JobTimeoutError` (carrying the last status seen) after ``timeout`` seconds."""
        self._sweep()
        loop = asyncio.get_running_loop()
        until = None if timeout is None else loop.time() + timeout
        wake = self._waiters.setdefault(job_id, asyncio.Event())
        try:
            while True:
                wake.clear()
                status = await self.status(job_id)
                if status.final:
                    return status
                pause = self._poll
                if until is not None:
                    left = until - loop.time()
                    if left <= 0:
                        raise JobTimeoutError(
                            f"job {job_id} is still {status.state.value} after {timeout} s",
                            job_id=job_id,
                            status=status,
                        )
                    pause = min(pause, left)
                if status.deadline is not None:
                    pause = min(pause, max(0.0, (status.deadline - utc_now()).total_seconds()))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), pause)
        finally:
            self._waiters.pop(job_id, None)

    async def cancel(self, job_id: str) -> JobStatus:
        """Cancel a job that is not final yet and return its status (a final job is returned
        as it is: check ``state``). A running handler learns it at its next ``progress``."""

        status, _ = await self._change(job_id, cancel_step)
        return status

    async def list(
        self, *, state: JobState | str | None = None, type: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        """Jobs, newest first (``state`` and ``type`` filter, at most ``limit``)."""
        return await self._store.list(
            state=None if state is None else _state(state), type=type, limit=limit
        )

    # -- workers ------------------------------------------------------------------------------

    def handler(self, func: JobHandler) -> JobHandler:
        """Wrap an ``async def`` handler so that it runs as a job's worker (see docs/jobs.md):
        subscribe the result like any handler."""
        return wrap_handler(self, func)

    @overload
    def worker(self, pattern: str, func: H, **options: Any) -> Any: ...

    @overload
    def worker(self, pattern: str, func: None = None, **options: Any) -> Callable[[H], H]: ...

    def worker(self, pattern: str, func: H | None = None, **options: Any) -> Any:
        """Subscribe a job handler to ``pattern`` on the bus (the same keyword options as
        ``EventBus.subscribe``). Defaults: ``group="eventbus-jobs"`` (competing workers) and a
        retry policy with room for ``max_attempts`` runs. With a function returns the
        Subscription; without, a decorator."""
        opts: SubscribeOptions = {"group": "eventbus-jobs", **options}  # type: ignore[typeddict-item]
        retry = opts.get("retry")
        if retry is None:
            opts["retry"] = RetryPolicy(max_attempts=self.max_attempts + 2, initial_delay=0.05)
        elif retry.max_attempts < self.max_attempts:
            raise ConfigurationError(
                f"the worker's retry policy allows {retry.max_attempts} attempts, fewer than "
                f"the jobs' max_attempts={self.max_attempts}: its jobs would stay pending"
            )
        with contextlib.suppress(RuntimeError):  # called outside the event loop: on first job
            self._sweep()
        if func is None:

            def decorator(f: H) -> H:
                self._bus.subscribe(pattern, self.handler(f), **opts)
                return f

            return decorator
        return self._bus.subscribe(pattern, self.handler(func), **opts)

    # -- leases (buses that cannot redeliver; see _lease) -------------------------------------

    async def recover(self) -> int:
        """Dispatch again the jobs whose lease has passed (their worker died); returns how
        many. Runs by itself every half lease while this ``Jobs`` is used; 0 without leases."""
        return 0 if self.lease is None else await sweep(self)

    def _sweep(self) -> None:
        if self._sweeper is not None:
            self._sweeper.ensure()

    # -- the one way a status changes ---------------------------------------------------------

    async def _change(
        self, job_id: str, step: Step, *, progress: bool = False
    ) -> tuple[JobStatus, bool]:
        """Apply ``step`` (see :func:`apply`); announce the change if this call made it."""
        status, changed = await apply(self._store, job_id, step, self.stats)
        if changed:
            await self._announce(status, progress=progress)
        return status, changed

    async def _announce(self, status: JobStatus, *, progress: bool) -> None:
        wake = self._waiters.get(status.id)
        if wake is not None:
            wake.set()
        if self._events:
            try:
                await self._bus.publish(status_event(status, self._prefix, progress=progress))
            except Exception as exc:
                self.stats.event_errors += 1
                log.warning("eventbus: could not publish the status of job %s: %r", status.id, exc)
        if status.final and status.callback is not None:
            try:
                await self._on_complete(status)
            except Exception as exc:
                self.stats.callback_errors += 1
                log.warning(
                    "eventbus: the completion callback of job %s failed: %r", status.id, exc
                )


async def apply(
    store: JobStore, job_id: str, step: Step, stats: JobStats | None = None
) -> tuple[JobStatus, bool]:
    """Apply ``step`` to the job with compare-and-set until the write wins or ``step``
    declines (returns None, or a state that may not follow); returns the status and whether
    this call changed it. A lost race reads the job again and computes the step anew."""

    def compute(current: JobStatus) -> JobStatus | None:
        proposed = step(current)
        if proposed is None or not allowed(current.state, proposed.state):
            return None
        return msgspec.structs.replace(proposed, version=current.version + 1, updated=utc_now())

    local = getattr(store, "apply", None)  # a store that can do it in one round trip
    if local is not None:
        found, changed, conflicts = await local(job_id, compute)
        if stats is not None:
            stats.conflicts += conflicts
        if found is None:
            raise JobNotFoundError(f"no job {job_id!r} in {store.name}", job_id=job_id)
        return found, changed
    while True:
        current = await store.get(job_id)
        if current is None:
            raise JobNotFoundError(f"no job {job_id!r} in {store.name}", job_id=job_id)
        new = compute(current)
        if new is None:
            return current, False
        if await store.replace(new):
            return new, True
        if stats is not None:
            stats.conflicts += 1


async def cancel_in_store(store: JobStore, job_id: str) -> tuple[JobStatus, bool]:
    """Cancel a job by writing its store only (the CLI: no bus, no status event); returns
    the status and whether this call cancelled it."""
    return await apply(store, job_id, cancel_step)


def cancel_step(cur: JobStatus) -> JobStatus | None:
    if cur.final:
        return None
    return msgspec.structs.replace(cur, state=JobState.CANCELLED, finished=utc_now())


def _expire(cur: JobStatus) -> JobStatus | None:
    if not cur.is_overdue():
        return None
    return msgspec.structs.replace(cur, state=JobState.EXPIRED, finished=utc_now())


def _state(value: JobState | str) -> JobState:
    try:
        return JobState(value)
    except ValueError:
        names = ", ".join(s.value for s in JobState)
        raise ConfigurationError(f"unknown job state {value!r}; the states are {names}") from None


def _deadline(value: float | timedelta | datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ConfigurationError("deadline must be an aware datetime (with a time zone)")
        return value
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ConfigurationError(
            f"deadline must be seconds > 0, a timedelta or an aware datetime, got {value!r}"
        )
    return now + timedelta(seconds=value)
