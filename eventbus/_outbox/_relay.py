"""``OutboxRelay``: publishes outbox rows at-least-once, in order, and marks them sent.

One relay per outbox at a time (a lease row in the database; a second relay waits), so rows go
out in ``id`` order and the order per partition key holds. Each batch is published run by run
(consecutive rows with the same channel in one ``publish`` call) and a run is marked sent only
after the broker has it. A relay killed anywhere resends from the first unmarked row: duplicates
are possible (the broker's dedupe on the event id and consumer idempotency absorb them), gaps
are not. A run that fails stops the batch, so nothing after it overtakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventbus._errors import ConfigurationError, DecodeError, EventBusError
from eventbus._outbox._model import OutboxRow, OutboxStore
from eventbus._wire._bindings import encode
from eventbus._wire._event import Event
from eventbus._wire._format import from_json

if TYPE_CHECKING:
    from eventbus._bus._eventbus import EventBus

__all__ = ["OutboxRelay", "RelayStats"]

log = logging.getLogger("eventbus.outbox")


@dataclass
class RelayStats:
    published: int = 0
    batches: int = 0
    failures: int = 0


class OutboxRelay:
    """Relay ``outbox`` to the broker of ``bus`` (an open :class:`~eventbus.EventBus`).

    ``batch_size`` rows per read; ``poll_interval`` seconds between reads of an empty outbox;
    ``lease`` seconds the relay lease lasts without renewal (a crashed relay is replaced after
    that); ``name`` names the lease (one relay per name).
    """

    def __init__(
        self,
        outbox: OutboxStore,
        bus: EventBus,
        *,
        batch_size: int = 100,
        poll_interval: float = 0.5,
        lease: float = 15.0,
        name: str = "default",
    ) -> None:
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be >= 1, got {batch_size!r}")
        if not poll_interval > 0 or not lease > 0:
            raise ConfigurationError(
                f"poll_interval and lease must be > 0 seconds, got {poll_interval!r}, {lease!r}"
            )
        self.outbox = outbox
        self.bus = bus
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.lease = lease
        self.name = name
        self.owner = uuid.uuid4().hex
        self.stats = RelayStats()
        self._schema_ready = False

    def __repr__(self) -> str:
        return f"OutboxRelay({self.outbox.name!r}, name={self.name!r})"

    async def _prepare(self) -> None:
        if not self._schema_ready:
            await self.outbox.ensure_schema()
            self._schema_ready = True

    async def acquire(self) -> bool:
        """Take (or renew) the relay lease. False while another relay holds it."""
        await self._prepare()
        return await self.outbox.acquire(self.name, self.owner, self.lease)

    async def run_once(self) -> int:
        """Publish one batch of unsent rows (the caller holds the lease); returns how many."""
        await self._prepare()
        rows = await self.outbox.fetch(self.batch_size)
        if not rows:
            return 0
        adapter, binding = self.bus.adapter, self.bus.capabilities.binding
        sent = 0
        start = 0
        while start < len(rows):
            end = start + 1
            while end < len(rows) and rows[end].channel == rows[start].channel:
                end += 1
            run = rows[start:end]
            messages = [encode(_event_of(row), binding) for row in run]
            await adapter.publish(run[0].channel, messages)
            await self.outbox.mark_sent([row.id for row in run])
            sent += len(run)
            self.stats.published += len(run)
            start = end
        self.stats.batches += 1
        return sent

    async def drain(self) -> int:
        """Publish until the outbox is empty (taking the lease first); returns how many.

        Raises :class:`~eventbus.ConfigurationError` if another relay holds the lease."""
        if not await self.acquire():
            raise ConfigurationError(
                f"another relay holds the lease {self.name!r} of {self.outbox.name}; "
                f"it expires {self.lease} s after that relay stops renewing it"
            )
        total = 0
        try:
            while True:
                count = await self.run_once()
                total += count
                if count < self.batch_size:
                    return total
                await self.outbox.acquire(self.name, self.owner, self.lease)
        finally:
            await self.outbox.release(self.name, self.owner)

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Relay until ``stop`` is set (or the task is cancelled); failures are logged and
        retried with backoff, so a broker outage only delays events."""
        stop = stop or asyncio.Event()
        backoff = self.poll_interval
        try:
            while not stop.is_set():
                try:
                    if not await self.acquire():
                        await _sleep_or_stop(stop, self.lease / 3)
                        continue
                    count = await self.run_once()
                    backoff = self.poll_interval
                except EventBusError as exc:
                    self.stats.failures += 1
                    log.warning(
                        "eventbus: outbox relay failed, retrying in %.1f s: %s", backoff, exc
                    )
                    await _sleep_or_stop(stop, backoff)
                    backoff = min(backoff * 2, 30.0)
                    continue
                if count < self.batch_size:
                    await _sleep_or_stop(stop, self.poll_interval)
        finally:
            try:
                await self.outbox.release(self.name, self.owner)
            except EventBusError:
                log.warning("eventbus: could not release the outbox relay lease", exc_info=True)


def _event_of(row: OutboxRow) -> Event[Any]:
    try:
        return from_json(row.body)
    except DecodeError as exc:
        raise DecodeError(f"outbox row {row.id} does not hold a valid event: {exc}") from exc


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
