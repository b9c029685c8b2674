"""The worker side: a job handler wrapped so that it records its job's life in the store.

The wrapper marks the job ``running`` (one more attempt) before the handler runs, and writes
the outcome before it returns, so the bus acks the job event only once the outcome is stored:
``succeeded`` with the handler's return value; on an exception ``pending`` with the error (and
the exception goes on to the bus, whose broker redelivers the event) until the last attempt,
then ``failed``. A worker killed mid-job never acks: the broker redelivers the event and the
next worker starts the next attempt of the ``running`` job. A job already final is acked
without running the handler; one past its deadline ends ``expired``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from eventbus._bus._dead_letters import sanitise
from eventbus._errors import ConfigurationError, RejectedEventError
from eventbus._jobs._errors import JobCancelledError, JobError, JobNotFoundError
from eventbus._jobs._events import JOB_ID
from eventbus._jobs._lease import holding, lease_until
from eventbus._jobs._model import JobErrorInfo, JobState, JobStatus, utc_now
from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._jobs._jobs import Jobs

__all__ = ["JobContext", "JobHandler", "current_job", "wrap_handler"]

JobHandler = Callable[..., Awaitable[Any]]
_current: ContextVar[JobContext | None] = ContextVar("eventbus_job", default=None)


def current_job() -> JobContext:
    """The job the running handler works on (raises :class:`JobError` outside a job handler)."""
    context = _current.get()
    if context is None:
        raise JobError("current_job() is only available inside a job handler")
    return context


class JobContext:
    """What a job handler knows of its job: ``id``, ``attempt`` (1-based), ``status`` (as of
    its last write), and :meth:`progress` to report how far it got."""

    def __init__(self, jobs: Jobs, status: JobStatus) -> None:
        self._jobs = jobs
        self.status = status

    @property
    def id(self) -> str:
        return self.status.id

    @property
    def attempt(self) -> int:
        return self.status.attempts

    @property
    def deadline(self) -> datetime | None:
        return self.status.deadline

    async def progress(self, fraction: float | None = None, message: str | None = None) -> None:
        """Record progress (``fraction`` within 0..1, and/or a short ``message``) and publish
        it. Raises :class:`JobCancelledError` when the job was cancelled (or is otherwise no
        longer running): stop working and let it propagate."""
        if fraction is not None and not (
            isinstance(fraction, int | float)
            and not isinstance(fraction, bool)
            and 0 <= fraction <= 1
        ):
            raise ConfigurationError(f"progress must be a number within 0..1, got {fraction!r}")
        text = None if message is None else sanitise(str(message), 1024)

        def report(cur: JobStatus) -> JobStatus | None:
            if cur.state is not JobState.RUNNING or cur.is_overdue():
                return None
            return msgspec.structs.replace(cur, progress=fraction, message=text)

        status, changed = await self._jobs._change(self.id, report, progress=True)
        self.status = status
        if not changed:
            raise JobCancelledError(
                f"job {self.id} is {status.state.value}: stop working on it", job_id=self.id
            )

    async def check(self) -> None:
        """Raise :class:`JobCancelledError` if the job is no longer running (cancelled,
        expired or finished elsewhere); a cheap read, no write."""
        status = await self._jobs.status(self.id)
        if status.state is not JobState.RUNNING:
            raise JobCancelledError(
                f"job {self.id} is {status.state.value}: stop working on it", job_id=self.id
            )


def _starter(lease: float | None) -> Callable[[JobStatus], JobStatus | None]:
    def start(cur: JobStatus) -> JobStatus | None:
        if cur.final:
            return None
        now = utc_now()
        if cur.is_overdue(now):
            return msgspec.structs.replace(cur, state=JobState.EXPIRED, finished=now, lease=None)
        return msgspec.structs.replace(
            cur,
            state=JobState.RUNNING,
            attempts=cur.attempts + 1,
            started=cur.started or now,
            lease=lease_until(lease, now),
        )

    return start


def _finish(state: JobState, **changes: Any) -> Callable[[JobStatus], JobStatus | None]:
    def finish(cur: JobStatus) -> JobStatus | None:
        if cur.final:
            return None
        now = utc_now()
        if cur.is_overdue(now):
            return msgspec.structs.replace(cur, state=JobState.EXPIRED, finished=now, lease=None)
        return msgspec.structs.replace(cur, state=state, finished=now, lease=None, **changes)

    return finish


def _retry_later(
    error: JobErrorInfo, lease: float | None
) -> Callable[[JobStatus], JobStatus | None]:
    def retry(cur: JobStatus) -> JobStatus | None:
        if cur.final:
            return None
        # With a lease, the in-process retry is waited for no longer than it (see _lease).
        until = lease_until(lease, utc_now())
        return msgspec.structs.replace(cur, state=JobState.PENDING, error=error, lease=until)

    return retry


async def _begin(jobs: Jobs, event: Event[Any]) -> JobContext | None:
    job_id = event.extensions.get(JOB_ID)
    if not isinstance(job_id, str) or not job_id:
        raise RejectedEventError(
            f"event {event.id} of type {event.type!r} is not a job: it has no {JOB_ID!r} "
            "attribute (submit it with Jobs.submit)",
            reason="not-a-job",
        )
    try:
        status, changed = await jobs._change(job_id, _starter(jobs.lease))
    except JobNotFoundError as exc:
        raise RejectedEventError(str(exc), reason="unknown-job") from exc
    if not changed or status.state is not JobState.RUNNING:
        jobs.stats.skipped += 1
        if status.final and not changed:
            # A final job delivered again: the worker that made it final may have died before
            # announcing it. Announce again (same event id: brokers that dedupe drop it).
            await jobs._announce(status, progress=False)
        return None
    jobs.stats.started += 1
    return JobContext(jobs, status)


def wrap_handler(jobs: Jobs, func: JobHandler) -> JobHandler:
    if not inspect.iscoroutinefunction(func):
        raise ConfigurationError(
            f"job handler {getattr(func, '__qualname__', func)!r} must be an async def function"
        )

    @functools.wraps(func)
    async def run_job(event: Event[Any], *rest: Any) -> None:
        jobs._sweep()
        context = await _begin(jobs, event)
        if context is None:
            return
        token = _current.set(context)
        try:
            async with holding(jobs, context.id, context.attempt):
                result = await _call(func, event, rest, context)
        except JobCancelledError:
            return  # the job is final already: ack
        except _Overdue:
            await jobs._change(context.id, _finish(JobState.EXPIRED))
            return
        except Exception as exc:
            if await _failed(jobs, context, exc):
                return
            jobs.stats.retried += 1
            raise  # the bus retries (the broker redelivers) for the next attempt
        finally:
            _current.reset(token)
        try:
            value = msgspec.to_builtins(result)
        except (TypeError, ValueError) as exc:
            value = None
            problem = TypeError(f"the job handler's result is not JSON-able: {exc}")
            if not await _failed(jobs, context, problem, final=True):
                raise problem from exc
            return
        _, changed = await jobs._change(context.id, _finish(JobState.SUCCEEDED, result=value))
        if not changed:
            jobs.stats.discarded += 1

    return run_job


class _Overdue(Exception):
    """The job's deadline passed while its handler ran."""


async def _call(func: JobHandler, event: Event[Any], rest: tuple[Any, ...], ctx: JobContext) -> Any:
    if ctx.deadline is None:
        return await func(event, *rest)
    left = (ctx.deadline - utc_now()).total_seconds()
    try:
        async with asyncio.timeout(max(0.0, left)) as scope:
            return await func(event, *rest)
    except TimeoutError:
        if scope.expired():
            raise _Overdue from None
        raise


async def _failed(jobs: Jobs, ctx: JobContext, exc: BaseException, *, final: bool = False) -> bool:
    """Record a failed attempt; True when the job is final now (no retry wanted)."""
    error = JobErrorInfo(type(exc).__name__, sanitise(str(exc), 1024))
    final = final or isinstance(exc, RejectedEventError) or ctx.attempt >= jobs.max_attempts
    step = _finish(JobState.FAILED, error=error) if final else _retry_later(error, jobs.lease)
    status, _ = await jobs._change(ctx.id, step)
    return final or status.final
