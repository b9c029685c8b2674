"""Topics and the duplicate-detection window of the test broker.

A :class:`Topic` copies each message into every subscription (none: it is dropped); scheduled
messages wait at the topic until due. :class:`DuplicateFilter` drops a re-sent MessageId seen
within the window, as Service Bus does (the message is accepted, then silently dropped).
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sb_broker._codec import Envelope

if TYPE_CHECKING:
    from sb_broker._entities import EntityConfig, MessageQueue

__all__ = ["DuplicateFilter", "Topic"]


class DuplicateFilter:
    """MessageIds seen within the duplicate-detection window (oldest first)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: OrderedDict[str, float] = OrderedDict()
        self.dropped = 0

    def is_duplicate(self, message_id: str | None, now: float) -> bool:
        while self._seen and next(iter(self._seen.values())) < now - self.window:
            self._seen.popitem(last=False)
        if message_id is None or self.window <= 0:
            return False
        if message_id in self._seen:
            self.dropped += 1
            return True
        self._seen[message_id] = now
        return False


@dataclass
class Topic:
    """A topic: every message goes to each of its subscriptions (none: it is dropped)."""

    path: str
    config: EntityConfig
    subscriptions: dict[str, MessageQueue] = field(default_factory=dict)
    duplicates: DuplicateFilter = field(init=False)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _scheduled: list[tuple[float, int, Envelope]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.duplicates = DuplicateFilter(self.config.duplicate_window)

    def send(self, env: Envelope, now: float) -> int | None:
        if self.duplicates.is_duplicate(env.message_id, now):
            return None
        seq = next(self._seq)
        if env.scheduled_at is not None and env.scheduled_at > now:
            heapq.heappush(self._scheduled, (env.scheduled_at, seq, env))
            return seq
        self._fan_out(env, now)
        return seq

    def _fan_out(self, env: Envelope, now: float) -> None:
        for subscription in self.subscriptions.values():
            subscription.enqueue(env.copy(), now)

    def cancel_scheduled(self, seqs: set[int]) -> None:
        self._scheduled = [item for item in self._scheduled if item[1] not in seqs]
        heapq.heapify(self._scheduled)

    def tick(self, now: float) -> bool:
        changed = False
        while self._scheduled and self._scheduled[0][0] <= now:
            _, _, env = heapq.heappop(self._scheduled)
            env.scheduled_at = None
            self._fan_out(env, now)
            changed = True
        return changed
