"""Dead-letter tooling: read, filter and replay the dead letters of a channel.

Dead letters wait on ``<channel>.dlq`` in the durable consumer group ``dlq``. Reading them
takes them from the broker without settling them; when done, :class:`DeadLetterQueue` gives back
every one it did not replay (nack, in reverse order so a broker that requeues at the front keeps
the original order), so listing never loses one, and a reader that dies holding them loses
nothing either: the broker redelivers them after ``ack_wait``. This works on every adapter
through the adapter contract alone.

Replay republishes the original event (the ``deadletter*`` attributes removed, the id kept) to
the channel it was consumed from, then acks the dead letter. Its dedupe id is the event id plus
the dead-letter time, so the broker's dedupe does not swallow the replay of a recently published
event, but does swallow a second replay of the same dead letter.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec

from eventbus._adapter import DEAD_LETTER_GROUP, Adapter, Delivery, SubscriptionSpec
from eventbus._bindings import decode, encode
from eventbus._consumer import DEAD_LETTER_ATTRIBUTES
from eventbus._errors import DecodeError, EventBusError
from eventbus._event import Event
from eventbus._router import type_matcher
from eventbus._types import parse_time

__all__ = ["DeadLetterEntry", "DeadLetterFilter", "DeadLetterQueue", "ReplayResult"]


@dataclass(frozen=True)
class DeadLetterEntry:
    """One dead letter: the event (None if it is not a valid CloudEvent) and why it died."""

    delivery: Delivery = field(repr=False)
    event: Event[Any] | None
    problem: str | None = None  # why ``event`` is None

    def attribute(self, name: str) -> str | None:
        if self.event is not None:
            value = self.event.extensions.get(name)
            return None if value is None else str(value)
        headers = self.delivery.message.headers
        for key in (f"ce-{name}", f"cloudEvents_{name}", f"cloudEvents:{name}"):
            value = headers.get(key)
            if value is not None:
                return value.decode() if isinstance(value, bytes) else str(value)
        return None

    @property
    def id(self) -> str | None:
        return self.event.id if self.event is not None else self.attribute("id")

    @property
    def type(self) -> str | None:
        return self.event.type if self.event is not None else self.attribute("type")

    @property
    def reason(self) -> str | None:
        return self.attribute("deadletterreason")

    @property
    def channel(self) -> str | None:
        """The channel the event was consumed from (where replay sends it)."""
        return self.attribute("deadletterchannel")

    @property
    def time(self) -> datetime | None:
        text = self.attribute("deadlettertime")
        if text is None:
            return None
        try:
            return parse_time(text)
        except (ValueError, EventBusError):
            return None

    def original(self) -> Event[Any]:
        """The event as first published: without the ``deadletter*`` attributes."""
        if self.event is None:
            raise DecodeError(f"not a valid CloudEvent: {self.problem}")
        kept = {k: v for k, v in self.event.extensions.items() if k not in DEAD_LETTER_ATTRIBUTES}
        return self.event.replace(extensions=kept)


@dataclass(frozen=True)
class DeadLetterFilter:
    """Which dead letters to select. ``types``: an event type or type pattern."""

    types: str | None = None
    since: datetime | None = None
    reason: str | None = None
    event_id: str | None = None
    limit: int | None = None

    def matches(self, entry: DeadLetterEntry) -> bool:
        if self.types is not None:
            kind = entry.type
            if kind is None or not type_matcher(self.types)(kind):
                return False
        if self.reason is not None and entry.reason != self.reason:
            return False
        if self.event_id is not None and entry.id != self.event_id:
            return False
        if self.since is not None:
            when = entry.time
            if when is None or when < self.since:
                return False
        return True


@dataclass
class ReplayResult:
    replayed: int = 0
    skipped: int = 0  # not a valid event, or no original channel recorded
    failed: str | None = None  # the error that stopped the replay


Progress = Callable[[int, int], None]


class DeadLetterQueue:
    """The dead letters of ``channel`` on an adapter (connected by the caller).

    ``dlq_channel`` defaults to ``<channel>.dlq``. ``idle``: seconds without a new message after
    which everything available has been read. ``scan_limit``: read at most this many.
    """

    def __init__(
        self,
        adapter: Adapter,
        channel: str,
        *,
        dlq_channel: str | None = None,
        idle: float = 1.0,
        scan_limit: int = 10_000,
        hold: float = 300.0,
    ) -> None:
        self.adapter = adapter
        self.channel = channel
        self.dlq_channel = dlq_channel or f"{channel}.dlq"
        self.idle = idle
        self.scan_limit = scan_limit
        self.hold = hold  # ack_wait: how long the broker lets us hold them before redelivering
        self.scanned = 0

    async def _read(self) -> tuple[Any, list[DeadLetterEntry]]:
        binding = self.adapter.capabilities.binding
        entries: list[DeadLetterEntry] = []
        arrived = asyncio.Event()

        async def deliver(delivery: Delivery) -> None:
            try:
                event: Event[Any] | None = decode(delivery.message, binding)
                problem = None
            except DecodeError as exc:
                event, problem = None, str(exc)
            entries.append(DeadLetterEntry(delivery, event, problem))
            arrived.set()

        spec = SubscriptionSpec(
            channel=self.dlq_channel,
            group=DEAD_LETTER_GROUP,
            max_in_flight=self.scan_limit,
            dead_letter_channel=None,
            max_attempts=None,
            ack_wait=self.hold,
        )
        sub = await self.adapter.subscribe(spec, deliver)
        try:
            while len(entries) < self.scan_limit:
                arrived.clear()
                try:
                    await asyncio.wait_for(arrived.wait(), self.idle)
                except TimeoutError:
                    break
            await sub.stop()
        except BaseException:
            await self._give_back(sub, entries)
            raise
        self.scanned = len(entries)
        # A broker may redeliver given-back messages in another order: oldest dead letter first.
        far = datetime.max.replace(tzinfo=UTC)
        entries.sort(key=lambda e: e.time or far)
        return sub, entries

    async def _give_back(self, sub: Any, entries: list[DeadLetterEntry]) -> None:
        with contextlib.suppress(Exception):
            await sub.stop()
        for entry in reversed(entries):
            with contextlib.suppress(Exception):
                await entry.delivery.nack(None)
        await sub.close()

    async def list(self, selection: DeadLetterFilter | None = None) -> list[DeadLetterEntry]:
        """The matching dead letters, oldest first. All of them stay on the broker."""
        selection = selection or DeadLetterFilter()
        sub, entries = await self._read()
        await self._give_back(sub, entries)
        found = [e for e in entries if selection.matches(e)]
        return found[: selection.limit] if selection.limit is not None else found

    async def replay(
        self,
        selection: DeadLetterFilter | None = None,
        *,
        progress: Progress | None = None,
        to_channel: str | None = None,
    ) -> ReplayResult:
        """Republish the matching dead letters to their original channel (or ``to_channel``)
        and ack them; the rest stay. Stops at the first failure, leaving it and the rest."""
        selection = selection or DeadLetterFilter()
        binding = self.adapter.capabilities.binding
        result = ReplayResult()
        sub, entries = await self._read()
        chosen = [e for e in entries if selection.matches(e)]
        if selection.limit is not None:
            chosen = chosen[: selection.limit]
        picked = {id(e) for e in chosen}
        remaining = [e for e in entries if id(e) not in picked]
        try:
            for done, entry in enumerate(chosen, 1):
                target = to_channel or entry.channel
                if entry.event is None or target is None:
                    result.skipped += 1
                    remaining.append(entry)
                else:
                    try:
                        message = encode(entry.original(), binding)
                        dedupe = f"{entry.event.id}:replay:{entry.attribute('deadlettertime')}"
                        message = msgspec.structs.replace(message, dedupe_id=dedupe)
                        await self.adapter.publish(target, [message])
                        await entry.delivery.ack()
                    except EventBusError as exc:
                        result.failed = f"{entry.id}: {type(exc).__name__}: {exc}"
                        remaining.extend(chosen[done - 1 :])
                        break
                    result.replayed += 1
                if progress is not None:
                    progress(done, len(chosen))
        finally:
            order = {id(e): i for i, e in enumerate(entries)}
            remaining.sort(key=lambda e: order[id(e)])
            await self._give_back(sub, remaining)
        return result
