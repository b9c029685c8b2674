"""What a job's changes look like on the bus, and the completion callback extension point.

Each change of a job's status is published as a CloudEvent (docs/jobs.md):

- type ``<prefix>.<state>`` (``io.eventbus.job.pending`` ... ``.expired``), or
  ``<prefix>.progress`` for a progress report of a running job;
- source ``urn:eventbus:jobs``, subject the job id, data the status JSON object;
- id ``<job id>.<version>``; extensions ``jobid``, ``jobtype``, ``jobstate`` and
  ``jobversion`` (the status version: events may arrive out of order, the higher version is
  the newer status).

Status events are published after the change is stored. A worker killed in between leaves
its job event unacknowledged; the worker that gets it again finds the job final and announces
it again, with the same event id (brokers that deduplicate, like JetStream, drop the copy): a
final status event is published at least once.

When a job that names a ``callback`` reaches a final state, the :class:`JobCallback` of its
``Jobs`` is called once with the final status. The default, :class:`PublishCompletion`,
publishes ``<prefix>.completed`` carrying the URL in the ``jobcallback`` extension, for
whatever delivers callbacks (a webhook sender subscribed to it) to pick up.
"""

from __future__ import annotations

from typing import Any, Final, Protocol, runtime_checkable

from eventbus._bus._eventbus import EventBus
from eventbus._jobs._model import JobStatus, public
from eventbus._wire._event import Event

__all__ = [
    "DEFAULT_PREFIX",
    "JOB_CALLBACK",
    "JOB_ID",
    "JOB_STATE",
    "JOB_TYPE",
    "JOB_VERSION",
    "SOURCE",
    "JobCallback",
    "PublishCompletion",
    "status_event",
]

#: Extension attributes: on the job event the worker receives (``jobid``) and on status events.
JOB_ID: Final = "jobid"
JOB_TYPE: Final = "jobtype"
JOB_STATE: Final = "jobstate"
JOB_VERSION: Final = "jobversion"
JOB_CALLBACK: Final = "jobcallback"
#: The default type prefix of status events and the source of the events the jobs layer makes.
DEFAULT_PREFIX: Final = "io.eventbus.job"
SOURCE: Final = "urn:eventbus:jobs"


def status_event(status: JobStatus, prefix: str, *, progress: bool = False) -> Event[Any]:
    """The status-change event of ``status`` (a progress report when ``progress``)."""
    suffix = "progress" if progress else status.state.value
    return Event(
        type=f"{prefix}.{suffix}",
        source=SOURCE,
        id=f"{status.id}.{status.version}",
        subject=status.id,
        data=public(status),
        extensions={
            JOB_ID: status.id,
            JOB_TYPE: status.type,
            JOB_STATE: status.state.value,
            JOB_VERSION: status.version,
        },
    )


@runtime_checkable
class JobCallback(Protocol):
    """Called once, by the process that made the change, when a job that names a callback
    reaches a final state. Exceptions are logged and counted (``JobStats.callback_errors``);
    the job's status is already stored and is not affected."""

    async def __call__(self, status: JobStatus) -> None: ...


class PublishCompletion:
    """The default :class:`JobCallback`: publish ``<prefix>.completed`` (data: the final
    status; ``jobcallback``: the job's callback URL) on ``bus``."""

    def __init__(self, bus: EventBus, prefix: str = DEFAULT_PREFIX) -> None:
        self._bus = bus
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"PublishCompletion(prefix={self._prefix!r})"

    async def __call__(self, status: JobStatus) -> None:
        event = status_event(status, self._prefix)
        event = Event(
            type=f"{self._prefix}.completed",
            source=SOURCE,
            id=f"{status.id}.completed",
            subject=status.id,
            data=event.data,
            extensions={**event.extensions, JOB_CALLBACK: status.callback or ""},
        )
        await self._bus.publish(event)
