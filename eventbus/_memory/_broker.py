"""The in-memory broker: routing, publisher dedupe, dead letters, and the registry of named brokers.

Routing copies each published message into every queue whose pattern matches the channel at
publish time; the matching queues of a channel are cached until a queue is added or removed.
Nothing matching means the message is dropped, as on NATS or Pub/Sub.
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable, Sequence
from time import monotonic

from eventbus._adapter._contract import DeadLetter
from eventbus._adapter._toolkit import check_channel
from eventbus._memory._delivery import MemoryDelivery
from eventbus._memory._faults import MemoryStats
from eventbus._memory._names import ADAPTER_NAME, check_messages, is_wildcard, matches
from eventbus._memory._queue import Queue
from eventbus._wire._message import Message

__all__ = ["DEFAULT_DEDUPE_WINDOW", "MemoryBroker", "forget_brokers", "named_broker"]

#: Seconds during which a message with an already seen ``dedupe_id`` is dropped at publish.
DEFAULT_DEDUPE_WINDOW = 120.0
#: Ids kept per channel and generation: a high publish rate shortens the effective window (as
#: a real broker's memory would) instead of growing the table without bound.
MAX_IDS_PER_GENERATION = 50_000
_ROUTE_CACHE_SIZE = 10_000


class _Route:
    """The queues matching one channel, and whether any of them is bounded."""

    __slots__ = ("bounded", "queues", "seen")

    def __init__(self, queues: tuple[Queue, ...], seen: SeenIds) -> None:
        self.queues = queues
        self.bounded = any(q.max_size < sys.maxsize for q in queues)
        self.seen = seen  # the channel's dedupe ids, kept here to save a lookup


class SeenIds:
    """Dedupe ids seen on one channel, with the time first seen, in two generations.

    Every ``retention`` seconds the current generation becomes the previous one and the older one
    is dropped, so an id seen less than ``retention`` seconds ago is always still known.
    """

    __slots__ = ("current", "previous", "started")

    def __init__(self, now: float) -> None:
        self.current: dict[str, float] = {}
        self.previous: dict[str, float] = {}
        self.started = now

    def rotate(self, now: float, retention: float) -> None:
        recent = now - self.started < 2 * retention
        self.previous = self.current if recent else {}
        self.current = {}
        self.started = now


class MemoryBroker:
    """Queues, routing and counters shared by every adapter created with the same name.

    A broker is used from one event loop at a time. Inspect it in tests with :meth:`depth`,
    :meth:`peek` and :attr:`stats`.
    """

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.stats = MemoryStats()
        self._queues: list[Queue] = []
        self._groups: dict[tuple[str, str], Queue] = {}
        self._exact: dict[str, list[Queue]] = {}
        self._wild: list[Queue] = []
        self._routes: dict[str, _Route] = {}
        self._seen: dict[str, SeenIds] = {}
        self._retention = 0.0  # the longest dedupe window used on this broker
        #: Requesters' reply inboxes (see ``_replies``): inbox name -> reply callback.
        self.inboxes: dict[str, Callable[[Message], None]] = {}

    def __repr__(self) -> str:
        return f"<MemoryBroker {self.name or '(private)'} queues={len(self._queues)}>"

    # -- inspection -----------------------------------------------------------------------------

    def depth(self, channel: str, group: str | None = None) -> int:
        """Unacked messages in the queue (pattern, group); for None, fan-out queues summed."""
        return sum(q.depth for q in self._find(channel, group))

    def peek(self, channel: str, group: str | None = None) -> list[Message]:
        """The unacked messages of (pattern, group) without consuming them: leased ones first,
        then in the order they would be delivered (held-back and delayed ones last)."""
        found: list[Message] = []
        for queue in self._find(channel, group):
            found.extend(queue.messages())
        return found

    def existing_group(self, pattern: str, group: str) -> Queue | None:
        """The durable queue of (pattern, group) if it exists (never created here)."""
        return self._groups.get((pattern, group))

    def group_queues(self) -> list[Queue]:
        """Every durable group queue, in creation order."""
        return [q for q in self._queues if q.group is not None]

    def _find(self, pattern: str, group: str | None) -> list[Queue]:
        if group is not None:
            queue = self._groups.get((pattern, group))
            return [queue] if queue is not None else []
        return [q for q in self._queues if q.group is None and q.pattern == pattern]

    # -- queues ---------------------------------------------------------------------------------

    def group_queue(self, pattern: str, group: str, max_size: int | None = None) -> Queue:
        """The durable queue of (pattern, group), created on first use."""
        queue = self._groups.get((pattern, group))
        if queue is None:
            queue = self._groups[(pattern, group)] = self._add(pattern, group, max_size)
        return queue

    def fanout_queue(self, pattern: str, max_size: int | None = None) -> Queue:
        """A new private queue for one fan-out subscription; remove it when it closes."""
        return self._add(pattern, None, max_size)

    def remove_queue(self, queue: Queue) -> None:
        if queue.group is not None:
            del self._groups[(queue.pattern, queue.group)]
        self._queues.remove(queue)
        if is_wildcard(queue.pattern):
            self._wild.remove(queue)
        else:
            exact = self._exact[queue.pattern]
            exact.remove(queue)
            if not exact:
                del self._exact[queue.pattern]
        self._routes.clear()
        queue.close()

    def _add(self, pattern: str, group: str | None, max_size: int | None) -> Queue:
        queue = Queue(self, pattern, group, max_size)
        self._queues.append(queue)
        if is_wildcard(pattern):
            self._wild.append(queue)
        else:
            self._exact.setdefault(pattern, []).append(queue)
        self._routes.clear()
        return queue

    def routes(self, channel: str) -> tuple[Queue, ...]:
        """The queues a message published to ``channel`` goes to."""
        return (self._routes.get(channel) or self._route(channel)).queues

    def _route(self, channel: str) -> _Route:
        tokens = channel.split(".")
        found = list(self._exact.get(channel, ()))
        found.extend(q for q in self._wild if matches(q.tokens, tokens))
        if len(self._routes) >= _ROUTE_CACHE_SIZE:
            self._routes.clear()
        seen = self._seen.get(channel)
        if seen is None:
            seen = self._seen[channel] = SeenIds(monotonic())
        route = self._routes[channel] = _Route(tuple(found), seen)
        return route

    # -- publishing -----------------------------------------------------------------------------

    def publish_nowait(
        self, channel: str, messages: Sequence[Message], dedupe_window: float
    ) -> bool:
        """Store ``messages`` now if every matching queue has room for all of them; else
        store nothing and return False (``publish`` waits for room)."""
        route = self._routes.get(channel) or self._route(channel)
        if route.bounded:
            n = len(messages)
            for queue in route.queues:
                if queue.max_size - queue.depth < n:
                    return False
        self._store(route, messages, dedupe_window)
        return True

    async def publish(
        self,
        channel: str,
        messages: Sequence[Message],
        dedupe_window: float = DEFAULT_DEDUPE_WINDOW,
    ) -> None:
        """Copy ``messages`` in order into every matching queue, waiting while one is full."""
        if self.publish_nowait(channel, messages, dedupe_window):
            return  # room for the whole batch everywhere
        rest = messages
        while rest:  # as much of the rest as every queue has room for, in order
            route = self._routes.get(channel) or self._route(channel)
            room = min((q.max_size - q.depth for q in route.queues), default=len(rest))
            if room <= 0:
                full = next(q for q in route.queues if q.full)
                await full.wait_room()
                continue
            self._store(route, rest[:room], dedupe_window)
            rest = rest[room:]

    def _store(self, route: _Route, messages: Sequence[Message], window: float) -> None:
        """Put the batch, less publisher duplicates, into every queue of ``route``."""
        if window > 0:
            messages = self._fresh(route, messages, window)
            if not messages:
                return
        n = len(messages)
        stats = self.stats
        stats.published += n
        queues = route.queues
        if queues:
            for queue in queues:
                queue.put_many(messages)
        else:
            stats.unrouted += n

    def _fresh(self, route: _Route, messages: Sequence[Message], window: float) -> list[Message]:
        """``messages`` without those whose ``dedupe_id`` was seen within ``window`` seconds
        (on this channel, or earlier in the batch)."""
        now = monotonic()
        if window > self._retention:
            self._retention = window
        seen = route.seen
        if now - seen.started >= self._retention:
            self._rotate(now)
        current, previous = seen.current, seen.previous
        fresh: list[Message] = []
        dropped = 0
        for message in messages:
            dedupe_id = message.dedupe_id
            if dedupe_id is not None:
                size = len(current)
                first = current.setdefault(dedupe_id, now)
                if len(current) == size:  # already seen in the current generation
                    if now - first < window:
                        dropped += 1
                        continue
                    current[dedupe_id] = now  # seen, but longer ago than this window
                elif previous:
                    first = previous.get(dedupe_id, -math.inf)
                    if now - first < window:
                        current[dedupe_id] = first  # keep the first-seen time
                        dropped += 1
                        continue
            fresh.append(message)
            if len(current) > MAX_IDS_PER_GENERATION:
                seen.rotate(now, self._retention)
                current, previous = seen.current, seen.previous
        if dropped:
            self.stats.deduplicated += dropped
        return fresh

    def _rotate(self, now: float) -> None:
        # Every channel at once (this runs about once per retention period), so that ids of a
        # channel nobody publishes to any more are dropped too.
        retention = self._retention
        for seen in self._seen.values():
            if now - seen.started >= retention:
                seen.rotate(now, retention)

    async def dead_letter(self, delivery: MemoryDelivery, dead: DeadLetter) -> None:
        """Ack ``delivery`` and store ``dead.message`` on ``dead.channel`` in one step."""
        consumer = delivery._consumer
        if consumer is not None:
            check_channel(consumer.limits, dead.channel, adapter=ADAPTER_NAME)
            check_messages(consumer.limits, (dead.message,))
        while True:
            routes = self.routes(dead.channel)
            full = next((q for q in routes if q.full), None)
            if full is None:
                break
            await full.wait_room()
            if not delivery.leased:
                return  # expired or returned while waiting: it will be redelivered
        delivery._queue.remove(delivery)
        self.stats.dead_lettered += 1
        if not routes:
            self.stats.unrouted += 1
        for queue in routes:
            queue.put(dead.message)


_brokers: dict[str, MemoryBroker] = {}
_brokers_lock = threading.Lock()


def named_broker(name: str) -> MemoryBroker:
    """The process-wide broker called ``name`` (``memory://name``), created on first use."""
    with _brokers_lock:
        broker = _brokers.get(name)
        if broker is None:
            broker = _brokers[name] = MemoryBroker(name)
        return broker


def forget_brokers(*names: str) -> None:
    """Drop the named brokers (all of them when no name is given), for test isolation.

    Adapters already holding one keep using it; the next adapter with that name gets a new one.
    """
    with _brokers_lock:
        if not names:
            _brokers.clear()
        for name in names:
            _brokers.pop(name, None)
