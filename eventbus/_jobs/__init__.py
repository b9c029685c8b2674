"""Durable jobs: submit an event as a job, track its status in a store, run workers on the bus,
serve it over HTTP (docs/jobs.md)."""

from eventbus._jobs._callbacks import WebhookCallbacks
from eventbus._jobs._errors import (
    JobCancelledError,
    JobConflictError,
    JobError,
    JobNotFoundError,
    JobTimeoutError,
)
from eventbus._jobs._events import (
    DEFAULT_PREFIX,
    JOB_CALLBACK,
    JOB_ID,
    JOB_STATE,
    JOB_TYPE,
    JOB_VERSION,
    JobCallback,
    PublishCompletion,
)
from eventbus._jobs._jobs import Jobs, JobStats
from eventbus._jobs._model import FINAL_STATES, JobErrorInfo, JobState, JobStatus
from eventbus._jobs._postgres import PostgresJobStore
from eventbus._jobs._redis import RedisJobStore
from eventbus._jobs._sqlite import SqliteJobStore
from eventbus._jobs._store import JobStore, open_job_store
from eventbus._jobs._worker import JobContext, current_job

__all__ = [
    "DEFAULT_PREFIX",
    "FINAL_STATES",
    "JOB_CALLBACK",
    "JOB_ID",
    "JOB_STATE",
    "JOB_TYPE",
    "JOB_VERSION",
    "JobCallback",
    "JobCancelledError",
    "JobConflictError",
    "JobContext",
    "JobError",
    "JobErrorInfo",
    "JobNotFoundError",
    "JobState",
    "JobStats",
    "JobStatus",
    "JobStore",
    "JobTimeoutError",
    "Jobs",
    "PostgresJobStore",
    "PublishCompletion",
    "RedisJobStore",
    "SqliteJobStore",
    "WebhookCallbacks",
    "current_job",
    "open_job_store",
]
