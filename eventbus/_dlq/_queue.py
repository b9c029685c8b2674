"""Dead-letter tooling: read, filter and replay the dead letters of a channel.

Dead letters wait on ``<channel>.dlq`` in the durable consumer group ``dlq``. Listing is a read
that leaves no trace: on an adapter that can browse (``Semantic.BROWSE``: memory, JetStream,
Pub/Sub, Service Bus) nothing is taken, locked or counted, so any number of lists return the
same dead letters; nothing is created either (a missing channel or group is an error naming
it). Only an adapter that cannot browse is read by taking the dead letters and giving them back.

Replay is a move. Before anything is sent, every target channel is checked to keep what is
published to it (``GroupAdminAdapter.retention_problem``: a JetStream interest stream without a
consumer, a topic without a subscription drop it); a target that would not is refused. Each
dead letter is then republished (the ``deadletter*`` attributes removed, the id kept) and
settled only once the publish returned, that is once the target stored it: removed by its
browse handle where the adapter can (``RemovingAdapter``), else acked. A failure stops the
replay with that dead letter and the rest still in place. The republished message's dedupe id
is made of the event's source, id and dead-letter time (``_replay_dedupe_id``), so the broker's
dedupe does not swallow the replay of a recently published event, nor the replay of another
producer's event with the same id, nor a second dead letter of the same event, but does swallow
a second replay of the same dead letter.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import msgspec

from eventbus._adapter._contract import (
    DEAD_LETTER_GROUP,
    Adapter,
    BrowsingAdapter,
    Delivery,
    GroupAdminAdapter,
    RemovingAdapter,
    Semantic,
    SubscriptionSpec,
)
from eventbus._adapter._toolkit import broker_dedupe_id
from eventbus._dlq._entry import DeadLetterEntry, DeadLetterFilter
from eventbus._errors import (
    ConfigurationError,
    DecodeError,
    EventBusError,
    UnsupportedSemanticError,
)
from eventbus._wire._bindings import decode, encode
from eventbus._wire._event import Event
from eventbus._wire._message import Message

__all__ = ["DeadLetterEntry", "DeadLetterFilter", "DeadLetterQueue", "ReplayResult"]


@dataclass
class ReplayResult:
    """What :meth:`DeadLetterQueue.replay` did."""

    replayed: int = 0
    """Dead letters republished and settled."""
    skipped: int = 0
    """Dead letters left in place: not a valid event, or no original channel recorded."""
    failed: str | None = None
    """The error that stopped the replay (that dead letter and the rest stay), or None."""


Progress = Callable[[int, int], None]
ScanProgress = Callable[[int, bool], None]
_Entries = list[DeadLetterEntry]
_FAR = datetime.max.replace(tzinfo=UTC)


class DeadLetterQueue:
    """The dead letters of ``channel`` on an adapter (connected by the caller).

    :param adapter: the broker's adapter, connected by the caller (``create_adapter(url)``).
    :param channel: the channel whose dead letters to read (where they were consumed).
    :param dlq_channel: the dead-letter channel (default ``<channel>.dlq``).
    :param scan_limit: read at most this many dead letters (default 10,000); the rest stay
        where they are, unread, for a later list or replay.
    :param idle: adapters that cannot browse only (read by taking and giving back): seconds
        without a new message after which everything available counts as read (default 1.0).
    :param hold: adapters that cannot browse only: the ack wait, in seconds, while the taken
        dead letters are held (default 300); it must outlast the scan and the replay, or the
        broker hands them out again meanwhile.
    :param scan_progress: called as ``scan_progress(read_so_far, finished)`` while the dead
        letters are read, and once with ``finished=True`` (the CLI's scan line) (default None).
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
        scan_progress: ScanProgress | None = None,
    ) -> None:
        self.adapter = adapter
        """The adapter, connected by the caller."""
        self.channel = channel
        """The channel whose dead letters these are."""
        self.dlq_channel = dlq_channel or f"{channel}.dlq"
        """Where they wait (``<channel>.dlq`` unless told)."""
        self.idle = idle
        """Seconds without a new message that end a read by taking (see ``idle`` above)."""
        self.scan_limit = scan_limit
        """At most this many dead letters are read (see ``scan_limit`` above)."""
        self.hold = hold
        """The ack wait while taken dead letters are held (see ``hold`` above)."""
        self.scan_progress = scan_progress
        """Called while dead letters are read (see ``scan_progress`` above)."""
        self.scanned = 0
        """How many dead letters the last list or replay read."""

    @property
    def browsable(self) -> bool:
        """True when the adapter reads dead letters without taking them (``Semantic.BROWSE``)."""
        adapter = self.adapter
        return isinstance(adapter, BrowsingAdapter) and adapter.capabilities.has(Semantic.BROWSE)

    def _entry(
        self, message: Message, delivery: Delivery | None = None, ref: Any = None
    ) -> DeadLetterEntry:
        try:
            event: Event[Any] | None = decode(message, self.adapter.capabilities.binding)
            problem = None
        except DecodeError as exc:
            event, problem = None, str(exc)
        if event is not None and "deadlettertruncated" in event.extensions:
            # Only the first bytes of the body were kept (it did not fit): not the event.
            size = str(event.extensions["deadlettertruncated"])
            event, problem = None, f"truncated dead letter: the body was {size} bytes"
        return DeadLetterEntry(message, event, problem, delivery, ref)

    async def _browse(self) -> _Entries:
        assert isinstance(self.adapter, BrowsingAdapter)
        found = await self.adapter.browse(
            self.dlq_channel, DEAD_LETTER_GROUP, limit=self.scan_limit
        )
        entries = [self._entry(item.message, ref=item.ref) for item in found]
        self._scanned(len(entries), True)
        return entries

    def _scanned(self, count: int, finished: bool) -> None:
        self.scanned = count
        if self.scan_progress is not None:
            self.scan_progress(count, finished)

    async def _take(self) -> tuple[Any, _Entries]:
        """Receive the dead letters (held unsettled for ``hold`` seconds)."""
        entries: _Entries = []
        arrived = asyncio.Event()

        async def deliver(delivery: Delivery) -> None:
            if len(entries) >= self.scan_limit:  # a broker may hand out more than asked for
                await delivery.nack(None)
                return
            entries.append(self._entry(delivery.message, delivery))
            self._scanned(len(entries), False)
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
        self._scanned(len(entries), True)
        # A broker may redeliver given-back messages in another order: oldest dead letter first.
        entries.sort(key=lambda e: e.time or _FAR)
        return sub, entries

    async def _give_back(self, sub: Any, entries: _Entries) -> None:
        with contextlib.suppress(Exception):
            await sub.stop()
        for entry in reversed(entries):
            if entry.delivery is not None:
                with contextlib.suppress(Exception):
                    await entry.delivery.nack(None)
        await sub.close()

    async def list(self, selection: DeadLetterFilter | None = None) -> _Entries:
        """The matching dead letters, oldest first. All of them stay on the broker."""
        selection = selection or DeadLetterFilter()
        if self.browsable:
            entries = await self._browse()
        else:
            sub, entries = await self._take()
            await self._give_back(sub, entries)
        found = [e for e in entries if selection.matches(e)]
        return found[: selection.limit] if selection.limit is not None else found

    async def check_target(self, channel: str) -> None:
        """Raise ConfigurationError when ``channel`` would not keep a replayed event (or
        UnsupportedSemanticError when the adapter cannot tell)."""
        adapter = self.adapter
        if not (
            isinstance(adapter, GroupAdminAdapter)
            and adapter.capabilities.has(Semantic.GROUP_ADMIN)
        ):
            raise UnsupportedSemanticError(
                "group-admin",
                adapter.name,
                "it cannot tell whether a replay target keeps what is published to it, so "
                "replay cannot promise not to lose events (check_targets=False skips the check)",
            )
        problem = await adapter.retention_problem(channel)
        if problem is not None:
            raise ConfigurationError(
                f"refusing to replay to {channel!r}: {problem}; the dead letters stay where "
                "they are (create a consumer group on it first, or replay elsewhere with --to)"
            )

    async def replay(
        self,
        selection: DeadLetterFilter | None = None,
        *,
        progress: Progress | None = None,
        to_channel: str | None = None,
        check_targets: bool = True,
    ) -> ReplayResult:
        """Move the matching dead letters to their original channel (or ``to_channel``): each
        is settled once the target stored it; the rest stay. Stops at the first failure,
        leaving it and the rest. Raises ConfigurationError, before anything is sent, when a
        target would not keep them (``check_targets``)."""
        selection = selection or DeadLetterFilter()
        if to_channel is not None and check_targets:
            await self.check_target(to_channel)
        if self.browsable:
            entries = await self._browse()
            if isinstance(self.adapter, RemovingAdapter):
                chosen = self._choose(entries, selection)
                await self._check_all(chosen, to_channel, check_targets)
                return await self._move(chosen, progress, to_channel, self._remove)
            if not any(selection.matches(e) for e in entries):
                return ReplayResult()  # nothing to take (and nothing is created)
        sub, entries = await self._take()
        chosen = self._choose(entries, selection)
        picked = {id(e) for e in chosen}
        remaining = [e for e in entries if id(e) not in picked]
        done: _Entries = []

        async def ack(entry: DeadLetterEntry) -> None:
            assert entry.delivery is not None
            await entry.delivery.ack()
            done.append(entry)

        try:
            await self._check_all(chosen, to_channel, check_targets)
            return await self._move(chosen, progress, to_channel, ack)
        finally:
            settled = {id(e) for e in done}
            remaining.extend(e for e in chosen if id(e) not in settled)
            order = {id(e): i for i, e in enumerate(entries)}
            remaining.sort(key=lambda e: order[id(e)])
            await self._give_back(sub, remaining)

    @staticmethod
    def _choose(entries: _Entries, selection: DeadLetterFilter) -> _Entries:
        chosen = [e for e in entries if selection.matches(e)]
        return chosen[: selection.limit] if selection.limit is not None else chosen

    async def _check_all(self, chosen: _Entries, to_channel: str | None, check: bool) -> None:
        if not check or to_channel is not None:
            return  # --to was checked before reading
        for target in sorted({e.channel for e in chosen if e.channel and e.event is not None}):
            await self.check_target(target)

    async def _remove(self, entry: DeadLetterEntry) -> None:
        assert isinstance(self.adapter, RemovingAdapter)
        await self.adapter.remove(self.dlq_channel, DEAD_LETTER_GROUP, [entry.ref])

    async def _move(
        self,
        chosen: _Entries,
        progress: Progress | None,
        to_channel: str | None,
        settle: Callable[[DeadLetterEntry], Any],
    ) -> ReplayResult:
        binding = self.adapter.capabilities.binding
        result = ReplayResult()
        if progress is not None:
            progress(0, len(chosen))
        for done, entry in enumerate(chosen, 1):
            target = to_channel or entry.channel
            if entry.event is None or target is None:
                result.skipped += 1
            else:
                try:
                    message = encode(entry.original(), binding)
                    message = msgspec.structs.replace(message, dedupe_id=_replay_dedupe_id(entry))
                    await self.adapter.publish(target, [message])  # stored, or raises
                    await settle(entry)
                except EventBusError as exc:
                    result.failed = f"{entry.id}: {type(exc).__name__}: {exc}"
                    break
                result.replayed += 1
            if progress is not None:
                progress(done, len(chosen))
        return result


def _replay_dedupe_id(entry: DeadLetterEntry) -> str:
    """The dedupe id of a dead letter's replay: the same for the same dead letter (a replay
    re-run after a crash between publish and settle is dropped as a duplicate), different for
    different dead letters, also of the same id from another source or of the same event
    dead-lettered again. A dead letter without its time (written by an older release) gets a
    fresh id: a possible duplicate rather than a replay the broker would drop."""
    assert entry.event is not None
    when = entry.attribute("deadlettertime") or uuid.uuid4().hex
    return broker_dedupe_id(entry.event.source, f"{entry.event.id}:replay:{when}")
