"""The job status record, its states and the rules for moving between them.

A job is ``pending`` (submitted, or waiting for a retry), ``running`` (a worker holds it), or in
one of four final states: ``succeeded``, ``failed``, ``cancelled``, ``expired``. A final state
never changes again; every change is a new version of the record, written with compare-and-set
(the store writes it only if the version it was computed from is still the current one).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, Final

import msgspec

__all__ = [
    "FINAL_STATES",
    "JobErrorInfo",
    "JobState",
    "JobStatus",
    "allowed",
    "decode_status",
    "encode_status",
    "public",
    "utc_now",
]


class JobState(enum.StrEnum):
    """Where a job is: pending, running, or one of the final states (succeeded, failed,
    cancelled, expired)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


FINAL_STATES: Final = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.EXPIRED}
)

# Which state may follow which. running -> running is a progress report or a redelivered
# attempt; running -> pending is a failed attempt waiting for its retry.
_NEXT: Final = {
    JobState.PENDING: frozenset(
        {
            JobState.RUNNING,
            JobState.SUCCEEDED,
            JobState.FAILED,
            JobState.CANCELLED,
            JobState.EXPIRED,
        }
    ),
    JobState.RUNNING: frozenset(JobState),
}


def allowed(old: JobState, new: JobState) -> bool:
    """True when a job in ``old`` may move to ``new`` (never out of a final state)."""
    return new in _NEXT.get(old, frozenset())


def utc_now() -> datetime:
    return datetime.now(UTC)


class JobErrorInfo(msgspec.Struct, frozen=True):
    """Why an attempt failed: the exception's type name and message."""

    type: str
    message: str


class JobStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One job's status. ``version`` counts the changes (compare-and-set token); ``attempts``
    the runs started; ``progress`` a fraction 0..1 reported by the handler, with ``message``;
    ``result`` the handler's return value (JSON) once ``succeeded``; ``error`` the last failure;
    ``lease`` (buses without redelivery) when the job is dispatched again unless renewed.
    """

    id: str
    type: str
    state: JobState
    created: datetime
    updated: datetime
    version: int = 1
    key: str | None = None
    attempts: int = 0
    progress: float | None = None
    message: str | None = None
    result: Any = None
    error: JobErrorInfo | None = None
    started: datetime | None = None
    finished: datetime | None = None
    deadline: datetime | None = None
    callback: str | None = None
    #: Buses that cannot redeliver (core NATS): when the worker's hold on a ``running`` job (or
    #: the wait for its in-process retry) ends unless renewed; past it the job is dispatched
    #: again (see ``_lease``). ``request``: the job's event (CloudEvents JSON) for that; never
    #: shown to clients.
    lease: datetime | None = None
    request: str | None = None

    @property
    def final(self) -> bool:
        return self.state in FINAL_STATES

    def is_overdue(self, now: datetime | None = None) -> bool:
        """True when the job has a deadline, is not final, and the deadline has passed."""
        return (
            self.deadline is not None
            and not self.final
            and self.deadline <= (now or datetime.now(UTC))
        )


_encoder: Final = msgspec.json.Encoder()
_decoder: Final = msgspec.json.Decoder(JobStatus)


def encode_status(status: JobStatus) -> bytes:
    return _encoder.encode(status)


def decode_status(body: bytes | str) -> JobStatus:
    return _decoder.decode(body)


def public(status: JobStatus) -> dict[str, Any]:
    """The status as the JSON object clients see (HTTP front, status events, CLI)."""
    out: dict[str, Any] = msgspec.to_builtins(status)
    out.pop("request", None)
    out.setdefault("result", None)
    return out
