"""The job store contract, and opening a store from a URL.

A store keeps one record per job. It knows nothing of the state machine: it inserts (unique
by idempotency key), reads, lists and replaces a record only if the stored version is the one
the new record was computed from (compare-and-set), so two writers can never both win.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from eventbus._errors import ConfigurationError, redact_url
from eventbus._jobs._model import JobState, JobStatus

__all__ = ["DEFAULT_STORE", "JobStore", "open_job_store"]

#: Where ``Jobs(bus)`` keeps its jobs when given no store: a SQLite file in the working directory.
DEFAULT_STORE = "eventbus-jobs.db"


@runtime_checkable
class JobStore(Protocol):
    """Where job statuses live. Safe for many tasks (and, but for memory, processes) at once."""

    @property
    def name(self) -> str:
        """The store named for messages (no secret in it)."""
        ...

    async def insert(self, status: JobStatus) -> tuple[JobStatus, bool]:
        """Store a new job. If its ``key`` is already taken, store nothing and return the job
        holding that key with False; else ``(status, True)``."""
        ...

    async def get(self, job_id: str) -> JobStatus | None: ...

    async def replace(self, status: JobStatus) -> bool:
        """Write ``status`` only if the stored record's version is ``status.version - 1``.
        False (nothing written) if another writer changed the job first, or it is gone."""
        ...

    async def delete(self, job_id: str, version: int) -> bool:
        """Delete the job (and free its key) only if it is still at ``version``."""
        ...

    async def list(
        self, *, state: JobState | None = None, type: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        """Jobs, newest first, optionally of one state and/or type, at most ``limit``."""
        ...

    async def close(self) -> None: ...


def check_limit(limit: int) -> int:
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(f"limit must be an int >= 1, got {limit!r}")
    return limit


def open_job_store(target: str | Path, *, table: str = "eventbus_jobs") -> JobStore:
    """The job store at ``target``: a SQLite file path or ``sqlite:///path.db``,
    ``postgresql://user:password@host/db`` or ``redis://host:6379/0``."""
    if isinstance(target, Path):
        from eventbus._jobs._sqlite import SqliteJobStore

        return SqliteJobStore(target, table=table)
    if not isinstance(target, str) or not target:
        raise ConfigurationError(f"a job store is a URL or a path, got {target!r}")
    if target.startswith(("postgresql://", "postgres://")):
        from eventbus._jobs._postgres import PostgresJobStore

        return PostgresJobStore(target, table=table)
    if target.startswith(("redis://", "rediss://", "unix://")):
        from eventbus._jobs._redis import RedisJobStore

        return RedisJobStore(target, prefix=f"{table}:")
    if "://" in target and not target.startswith("sqlite:"):
        raise ConfigurationError(
            f"unsupported job store URL {redact_url(target)!r}: use a SQLite path, "
            "sqlite:///path.db, postgresql://... or redis://..."
        )
    from eventbus._jobs._sqlite import SqliteJobStore

    return SqliteJobStore(target, table=table)
