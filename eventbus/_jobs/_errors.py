"""The errors of durable jobs (all under :class:`~eventbus.EventBusError`)."""

from __future__ import annotations

from eventbus._errors import EventBusError

__all__ = [
    "JobCancelledError",
    "JobConflictError",
    "JobError",
    "JobNotFoundError",
    "JobTimeoutError",
]


class JobError(EventBusError):
    """A durable job could not be submitted, read or changed as asked."""

    def __init__(self, message: str, *, job_id: str | None = None) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobNotFoundError(JobError, LookupError):
    """No job has this id in the store."""


class JobTimeoutError(JobError, TimeoutError):
    """``Jobs.wait`` gave up before the job reached a final state; ``status`` is the last seen."""

    def __init__(self, message: str, *, job_id: str, status: object) -> None:
        super().__init__(message, job_id=job_id)
        self.status = status


class JobConflictError(JobError, ValueError):
    """An idempotency key is already taken by a job of another type."""


class JobCancelledError(JobError):
    """Raised inside a job handler (by ``progress`` or ``check``) once its job was cancelled,
    expired or finished elsewhere: the handler should stop; the worker acks the event."""
