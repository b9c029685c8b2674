"""Queues, subscriptions and topics of the test broker, with Service Bus semantics.

A :class:`MessageQueue` (a queue, a topic subscription, or a dead-letter sub-queue) keeps its
messages in sequence-number order, per session when it requires sessions. Peek-lock hands a
message out under a lock (token = the delivery tag); the lock ends with complete, abandon,
dead-letter, release, or expiry. Abandon and expiry count a delivery; past MaxDeliveryCount the
message moves to the dead-letter sub-queue with reason ``MaxDeliveryCountExceeded``. Scheduled
messages wait until their enqueue time; expired ones (TTL) are dropped. A :class:`Topic` copies
each message into every subscription. Both drop a re-sent MessageId inside the duplicate-
detection window. Everything here runs on the broker thread, under the namespace lock.
"""

from __future__ import annotations

import heapq
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from proton import symbol

from sb_broker._codec import Envelope, new_lock_token, ts
from sb_broker._topic import DuplicateFilter


@dataclass(frozen=True)
class EntityConfig:
    lock_duration: float = 30.0
    max_delivery_count: int = 10
    requires_session: bool = False
    duplicate_window: float = 600.0
    session_lock_duration: float = 30.0


@dataclass
class Stored:
    seq: int
    env: Envelope
    enqueued: float
    delivery_count: int = 0
    token: uuid.UUID | None = None
    locked_until: float = 0.0
    holder: Any = None

    @property
    def session(self) -> str | None:
        return self.env.session_id

    def broker_annotations(self) -> dict[Any, Any]:
        out: dict[Any, Any] = {
            symbol("x-opt-sequence-number"): self.seq,
            symbol("x-opt-enqueued-time"): ts(self.enqueued),
        }
        if self.token is not None:
            out[symbol("x-opt-locked-until")] = ts(self.locked_until)
        return out


class MessageQueue:
    """One receivable entity: ready messages, locks, scheduled messages, sessions."""

    def __init__(self, path: str, config: EntityConfig, dead_letter: MessageQueue | None) -> None:
        self.path = path
        self.config = config
        self.dead_letter_queue = dead_letter
        self.consumers: list[Any] = []
        self.duplicates = DuplicateFilter(config.duplicate_window)
        self._seq = itertools.count(1)
        self._ready: dict[str | None, list[tuple[int, Stored]]] = {}
        self._locked: dict[uuid.UUID, Stored] = {}
        self._scheduled: list[tuple[float, int, Stored]] = []
        self.session_owner: dict[str, tuple[Any, float]] = {}
        self.session_state: dict[str, bytes] = {}
        self.stats = {"enqueued": 0, "completed": 0, "abandoned": 0, "expired_locks": 0}

    def __repr__(self) -> str:
        return f"<MessageQueue {self.path} ready={self.ready_count()} locked={len(self._locked)}>"

    # -- in --------------------------------------------------------------------------------------

    def send(self, env: Envelope, now: float) -> int | None:
        """Accept a sent message (duplicate detection applies); its sequence number or None."""
        if self.duplicates.is_duplicate(env.message_id, now):
            return None
        return self.enqueue(env, now)

    def enqueue(self, env: Envelope, now: float, delivery_count: int = 0) -> int:
        stored = Stored(next(self._seq), env, now, delivery_count)
        if env.scheduled_at is not None and env.scheduled_at > now:
            heapq.heappush(self._scheduled, (env.scheduled_at, stored.seq, stored))
        else:
            self._make_ready(stored)
        self.stats["enqueued"] += 1
        return stored.seq

    def _key(self, stored: Stored) -> str | None:
        return stored.session if self.config.requires_session else None

    def _make_ready(self, stored: Stored) -> None:
        stored.token, stored.holder = None, None
        heapq.heappush(self._ready.setdefault(self._key(stored), []), (stored.seq, stored))

    def cancel_scheduled(self, seqs: set[int]) -> None:
        self._scheduled = [item for item in self._scheduled if item[1] not in seqs]
        heapq.heapify(self._scheduled)

    # -- out -------------------------------------------------------------------------------------

    def ready_count(self, session: str | None = None) -> int:
        if session is not None:
            return len(self._ready.get(session, ()))
        return sum(map(len, self._ready.values()))

    def take(self, consumer: Any, now: float) -> Stored | None:
        """Lock the next message for ``consumer`` (of its session, on a session entity)."""
        key = consumer.session_id if self.config.requires_session else None
        if self.config.requires_session:
            owner = self.session_owner.get(key) if key is not None else None
            if owner is None or owner[0] is not consumer:
                return None
        heap = self._ready.get(key)
        while heap:
            _, stored = heapq.heappop(heap)
            if stored.env.expires_at is not None and stored.env.expires_at <= now:
                continue  # TTL passed: dropped (dead-lettering on expiry is off by default)
            if consumer.settled_on_send:
                return stored  # receive-and-delete: no lock
            stored.token = new_lock_token()
            stored.locked_until = now + self.config.lock_duration
            if key is not None:  # a session's messages are locked as long as the session
                stored.locked_until = self.session_owner[key][1]
            stored.holder = consumer
            self._locked[stored.token] = stored
            return stored
        return None

    def locked(self, token: uuid.UUID) -> Stored | None:
        return self._locked.get(token)

    def complete(self, token: uuid.UUID) -> bool:
        if self._locked.pop(token, None) is None:
            return False
        self.stats["completed"] += 1
        return True

    def release(self, token: uuid.UUID) -> bool:
        """Give a message back without counting a delivery (the client never looked at it)."""
        stored = self._locked.pop(token, None)
        if stored is None:
            return False
        self._make_ready(stored)
        return True

    def abandon(self, token: uuid.UUID, now: float, reason: str = "abandon") -> bool:
        stored = self._locked.pop(token, None)
        if stored is None:
            return False
        self.stats["abandoned" if reason == "abandon" else "expired_locks"] += 1
        stored.delivery_count += 1
        if stored.delivery_count >= self.config.max_delivery_count:
            self._to_dead_letter(
                stored,
                "MaxDeliveryCountExceeded",
                "Message could not be consumed after "
                f"{self.config.max_delivery_count} delivery attempts.",
                now,
            )
        else:
            self._make_ready(stored)
        return True

    def dead_letter(
        self, token: uuid.UUID, reason: str | None, description: str | None, now: float
    ) -> bool:
        stored = self._locked.pop(token, None)
        if stored is None:
            return False
        self._to_dead_letter(stored, reason, description, now)
        return True

    def _to_dead_letter(
        self, stored: Stored, reason: str | None, description: str | None, now: float
    ) -> None:
        if self.dead_letter_queue is None:
            return  # a dead-letter sub-queue has none of its own
        env = stored.env.copy()
        props = env.application_properties()
        if reason is not None:
            props["DeadLetterReason"] = reason
        if description is not None:
            props["DeadLetterErrorDescription"] = description
        env.set_application_properties(props)
        env.annotations[symbol("x-opt-deadletter-source")] = self.path
        env.scheduled_at = None
        env.expires_at = None
        self.dead_letter_queue.enqueue(env, now, stored.delivery_count)

    def renew(self, token: uuid.UUID, now: float) -> float | None:
        stored = self._locked.get(token)
        if stored is None:
            return None
        stored.locked_until = now + self.config.lock_duration
        return stored.locked_until

    # -- sessions --------------------------------------------------------------------------------

    def acquire_session(self, consumer: Any, wanted: str | None, now: float) -> str | None:
        """Lock session ``wanted`` (or the next one with messages) for ``consumer``."""
        if wanted is not None:
            owner = self.session_owner.get(wanted)
            if owner is not None and owner[0] is not consumer:
                return None
            self.session_owner[wanted] = (consumer, now + self.config.session_lock_duration)
            return wanted
        candidates = [
            (heap[0][0], key)
            for key, heap in self._ready.items()
            if heap and key is not None and key not in self.session_owner
        ]
        if not candidates:
            return None
        _, key = min(candidates)
        self.session_owner[key] = (consumer, now + self.config.session_lock_duration)
        return key

    def renew_session(self, session: str, now: float) -> float | None:
        owner = self.session_owner.get(session)
        if owner is None:
            return None
        until = now + self.config.session_lock_duration
        self.session_owner[session] = (owner[0], until)
        for stored in self._locked.values():
            if stored.holder is owner[0]:
                stored.locked_until = until
        return until

    def drop_consumer(self, consumer: Any, now: float) -> None:
        """A receiver link went away: its session locks end; message locks run out by expiry."""
        for key, (owner, _) in list(self.session_owner.items()):
            if owner is consumer:
                del self.session_owner[key]
                for token, stored in list(self._locked.items()):
                    if stored.holder is consumer:
                        self.abandon(token, now, reason="expired")  # a session lock lost
        if consumer in self.consumers:
            self.consumers.remove(consumer)

    # -- time ------------------------------------------------------------------------------------

    def tick(self, now: float) -> bool:
        """Expire locks, promote due scheduled messages. True if anything became ready."""
        changed = False
        for token, stored in list(self._locked.items()):
            if stored.locked_until <= now:
                self.abandon(token, now, reason="expired")
                changed = True
        while self._scheduled and self._scheduled[0][0] <= now:
            _, _, stored = heapq.heappop(self._scheduled)
            stored.enqueued = now
            self._make_ready(stored)
            changed = True
        for key, (_owner, until) in list(self.session_owner.items()):
            if until <= now:
                del self.session_owner[key]
                changed = True
        return changed

    def peek(self, from_seq: int, count: int) -> list[Stored]:
        active = [s for heap in self._ready.values() for _, s in heap]
        active += list(self._locked.values())
        return sorted((s for s in active if s.seq >= from_seq), key=lambda s: s.seq)[:count]

    def scheduled_count(self) -> int:
        return len(self._scheduled)

    def locked_count(self) -> int:
        return len(self._locked)
