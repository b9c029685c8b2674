"""``Idempotency``: the consume middleware that runs a handler at most once per key.

Claim before the handler, commit after it succeeds, release when it fails. A duplicate returns
without calling the handler, so the bus acks it. A key claimed by another worker is waited for
(polling with backoff, for at most the lease) since that worker either commits (then this one is
a duplicate) or fails or dies (then this one takes the key over).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware
from eventbus._errors import ConfigurationError, StoreError
from eventbus._idempotency._store import ClaimStatus, IdempotencyStore, check_lease
from eventbus._wire._event import Event

__all__ = ["Claim", "Idempotency", "IdempotencyStats", "current_claim", "default_key"]

log = logging.getLogger("eventbus.idempotency")

KeyFunction = Callable[[Event[Any]], str]
_MAX_POLL = 1.0


@dataclass(slots=True)
class Claim:
    """The claim the running handler holds: its key, its owner token and the store.

    ``committed`` is set by a store's ``commit_with`` (the key is done already)."""

    key: str
    owner: str
    store: IdempotencyStore
    committed: bool = False


_current: contextvars.ContextVar[Claim | None] = contextvars.ContextVar(
    "eventbus_idempotency_claim", default=None
)


def current_claim() -> Claim | None:
    """The idempotency claim of the handler running in this task, if any.

    Stores with transactional side effects (``SqliteIdempotencyStore.commit_with``,
    ``PostgresIdempotencyStore.commit_with``) use it to write the handler's side effect and the
    commit in one database transaction.
    """
    return _current.get()


def default_key(event: Event[Any]) -> str:
    """The CloudEvents identity of an event: ``(source, id)``, unique per producer."""
    return f"{event.source}\x1f{event.id}"


def scope_of(context: ConsumeContext) -> str:
    """Competing consumers of a group share keys; each fan-out subscription has its own."""
    return f"group:{context.group}" if context.group is not None else f"fanout:{context.pattern}"


@dataclass
class IdempotencyStats:
    """Counts of an :class:`Idempotency` middleware."""

    claimed: int = 0
    """Events this consumer claimed and handled."""
    duplicates: int = 0
    """Events skipped: already done."""
    waited: int = 0
    """Events found in progress elsewhere at least once (waited for)."""
    released: int = 0
    """Claims dropped because the handler failed (the event can be handled again)."""
    commit_failures: int = 0
    """Handled events whose "done" mark could not be written."""


class Idempotency(Middleware):
    """Skip events already handled: ``EventBus(url, middleware=[Idempotency(store)])``.

    ``key``: a function of the event giving its identity (default ``(source, id)``); the key is
    always scoped by the consumer group (or, for fan-out, the subscription pattern), so two
    groups each handle an event once. ``lease``: seconds a claim holds before another worker may
    take it over; it is renewed every third of the lease while the handler runs, so a slow
    handler keeps it and a dead worker's claim expires within one lease. ``namespace`` prefixes
    every key (several applications sharing one store).
    """

    def __init__(
        self,
        store: IdempotencyStore,
        *,
        key: KeyFunction | None = None,
        lease: float = 30.0,
        namespace: str = "",
    ) -> None:
        if not isinstance(store, IdempotencyStore):
            raise ConfigurationError(
                f"store must implement IdempotencyStore (claim, extend, commit, release, "
                f"cleanup, close), got {type(store).__name__}"
            )
        if key is not None and not callable(key):
            raise ConfigurationError(f"key must be a function of the event, got {key!r}")
        self.store = store
        self.lease = check_lease(lease)
        self.stats = IdempotencyStats()
        self._key = key or default_key
        self._prefix = f"{namespace}\x1f" if namespace else ""

    def __repr__(self) -> str:
        return f"Idempotency({self.store!r}, lease={self.lease})"

    def key_for(self, event: Event[Any], context: ConsumeContext) -> str:
        """The store key of ``event`` as consumed in ``context``."""
        return f"{self._prefix}{scope_of(context)}\x1f{self._key(event)}"

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        store = self.store
        key = self.key_for(event, context)
        owner = uuid.uuid4().hex
        status = await store.claim(key, owner, self.lease)
        if status is ClaimStatus.IN_PROGRESS:
            status = await self._wait(key, owner)
        if status is ClaimStatus.DUPLICATE:
            self.stats.duplicates += 1
            log.debug(
                "eventbus: skipping duplicate event %s on %r",
                event.id,
                context.channel,
                extra={"event_id": event.id, "event_source": event.source},
            )
            return  # the bus acks it
        self.stats.claimed += 1
        loop = asyncio.get_running_loop()
        renewer = _Renewer(store, key, owner, self.lease, loop)
        claim = Claim(key, owner, store)
        token = _current.set(claim)
        try:
            await call_next(event, context)
        except BaseException:
            renewer.cancel()
            self.stats.released += 1
            try:
                await store.release(key, owner)
            except Exception:
                log.warning("eventbus: could not release an idempotency claim", exc_info=True)
            raise
        finally:
            _current.reset(token)
        renewer.cancel()
        if claim.committed:
            return
        try:
            await store.commit(key, owner)
        except Exception:
            # The handler's work is done: acking beats running it again. A later redelivery
            # (rare: the ack is next) would find the claim and wait out its lease.
            self.stats.commit_failures += 1
            log.error(
                "eventbus: could not commit the idempotency key of event %s",
                event.id,
                exc_info=True,
                extra={"event_id": event.id, "event_source": event.source},
            )

    async def _wait(self, key: str, owner: str) -> ClaimStatus:
        """Poll while another owner holds the key: at most one lease (it expires by then)."""
        self.stats.waited += 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.lease + 1.0
        pause = 0.02
        while loop.time() < deadline:
            await asyncio.sleep(pause)
            status = await self.store.claim(key, owner, self.lease)
            if status is not ClaimStatus.IN_PROGRESS:
                return status
            pause = min(pause * 2, _MAX_POLL, self.lease / 4)
        raise StoreError(
            f"key {key!r} stayed claimed by another worker for longer than its lease "
            f"({self.lease} s); retrying later",
            store=repr(self.store),
        )


class _Renewer:
    """Extends a claim every third of its lease while the handler runs (a timer, no task
    unless the handler outlives a third of the lease)."""

    __slots__ = ("_handle", "_key", "_lease", "_loop", "_owner", "_store", "_task")

    def __init__(
        self,
        store: IdempotencyStore,
        key: str,
        owner: str,
        lease: float,
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self._store, self._key, self._owner, self._lease, self._loop = (
            store,
            key,
            owner,
            lease,
            loop,
        )
        self._task: asyncio.Task[None] | None = None
        self._handle: asyncio.TimerHandle | None = loop.call_later(lease / 3, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._task = self._loop.create_task(self._extend())

    async def _extend(self) -> None:
        try:
            kept = await self._store.extend(self._key, self._owner, self._lease)
        except Exception:
            log.warning("eventbus: could not extend an idempotency claim", exc_info=True)
            kept = True  # try again next time
        if not kept:
            log.warning(
                "eventbus: the idempotency claim %r was lost while its handler ran", self._key
            )
            return
        self._task = None
        self._handle = self._loop.call_later(self._lease / 3, self._fire)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._task is not None:
            self._task.cancel()
            self._task = None
