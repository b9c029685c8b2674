"""One subscription: a confluent-kafka consumer read from the event loop, its commits, its retries.

A group subscription joins the Kafka consumer group (eager protocol: when its first assignment
arrives, every member has its new partitions); a fan-out one reads every partition itself from
the end offsets at subscribe time. It reads its channel and the channel's retry topics, and
hands records to the bus in offset order. ``max_in_flight`` is spread over the assigned
partitions: a partition with its share unsettled keeps what it read in a backlog until records
settle (and is paused while the backlog is long). A retry copy not yet due waits in the backlog
of its retry partition, paused until it is due, so nothing else waits for it. Copies meant for another group are settled unread. An ordered
subscription hands over one record per key at a time and retries in place, so a key's order
holds through failures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from eventbus.adapter import DeadLetter, Deliver, Message, Scrubber, SubscriptionSpec
from eventbus_kafka._clients import tie
from eventbus_kafka._delivery import (
    ATTEMPT_HEADER,
    DUE_HEADER,
    GROUP_HEADER,
    KafkaDelivery,
    message_of,
)
from eventbus_kafka._errors import describe
from eventbus_kafka._offsets import PartitionOffsets
from eventbus_kafka._ordering import KeyGate

__all__ = ["KafkaSubscription", "Mover"]

log = logging.getLogger("eventbus.kafka")
TP = tuple[str, int]
Mover = Callable[[str, list[Message]], Awaitable[None]]
_BATCH = 500
_IDLE_MIN, _IDLE_MAX = 0.001, 0.005
_BACKLOG_MAX = 1_000
_CLOSED: Any = None  # what a closed subscription holds instead of its consumer


class KafkaSubscription:
    def __init__(
        self,
        spec: SubscriptionSpec,
        deliver: Deliver,
        *,
        settings: dict[str, Any],
        group_id: str,
        fan_out: bool,
        retry_topics: dict[float, str],
        move: Mover,
        scrub: Scrubber,
        commit_interval: float,
        on_close: Callable[[KafkaSubscription], Awaitable[None]],
    ) -> None:
        self.spec = spec
        self.group_id = group_id
        self.fan_out = fan_out
        self._deliver = deliver
        self._retry_topics = retry_topics
        self._retry_names = frozenset(retry_topics.values())
        self._move = move
        self._scrub = scrub
        self._commit_interval = commit_interval
        self._on_close = on_close
        self._consumer = Consumer(
            {**settings, "on_commit": self._committed, "error_cb": self._error}
        )
        self._grave = tie(self, self._consumer)
        self._states: dict[TP, PartitionOffsets] = {}
        self._cap = max(1, spec.max_in_flight)
        self._full: set[TP] = set()  # their share of max_in_flight is unsettled
        # records read but not handed over yet, per partition (paused meanwhile)
        self._backlog: dict[TP, deque[Any]] = {}
        self._runnable: set[TP] = set()  # partitions whose backlog may go on
        self._paused: set[TP] = set()
        self._gate = KeyGate() if spec.ordered else None
        self._ready: deque[KafkaDelivery] = deque()
        self._wake = asyncio.Event()
        self._assigned = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self._commit_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "stopped" if self._stopped else "open"
        return f"<KafkaSubscription {self.spec.channel!r} group={self.group_id!r} {state}>"

    @property
    def topics(self) -> list[str]:
        return [self.spec.channel, *self._retry_topics.values()]

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, start_offsets: list[TopicPartition] | None, wait: float) -> None:
        """Fan-out: read ``start_offsets``. Group: join, and wait up to ``wait`` seconds for the
        first assignment (the pump must run meanwhile: joining happens inside ``consume``)."""
        if start_offsets is not None:
            for tp in start_offsets:
                self._states[(tp.topic, tp.partition)] = PartitionOffsets()
            self._reshare()
            self._consumer.assign(start_offsets)
            self._assigned.set()
        else:
            self._consumer.subscribe(
                self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke,
                on_lost=self._on_lost,
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        self._pump_task = loop.create_task(self._pump(), name=f"eventbus-kafka:{self.spec.channel}")
        if not self.fan_out:
            self._commit_task = loop.create_task(self._commit_loop())
        try:
            await asyncio.wait_for(self._assigned.wait(), wait)
        except TimeoutError:
            log.warning("kafka: %r has no partitions yet after %.0f s", self, wait)

    async def stop(self) -> None:
        """Stop handing records over; settling what the bus holds still commits."""
        if self._stopped:
            return
        self._stopped = True
        pump = self._pump_task
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        self._ready.clear()  # (timers still pending find the subscription stopped)

    async def close(self) -> None:
        """Commit what settled, leave the group; unsettled records go to the next reader."""
        if self._closed:
            return
        self._closed = True
        try:
            await self.stop()  # re-raises what ended the pump, if it failed
        finally:
            # Whatever happened, close the consumer: one left to its deallocator after it
            # polled with rebalance callbacks crashes the interpreter (confluent-kafka #358).
            if self._commit_task is not None:
                self._commit_task.cancel()
            if not self.fan_out:
                self._commit(asynchronous=False)
            self._states.clear()
            try:
                self._consumer.close()
            except (KafkaException, RuntimeError) as exc:
                log.debug("kafka: closing the consumer of %r: %r", self, exc)
            # The client goes to the reaper (see _clients): it references this subscription
            # (its callbacks), so the two would otherwise be left to the garbage collector.
            self._consumer = _CLOSED
            self._grave()
            await self._on_close(self)

    # -- rebalances (called inside consume(), on the event loop's thread) -----------------------

    def _on_assign(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._states[(tp.topic, tp.partition)] = PartitionOffsets()
        self._reshare()
        self._assigned.set()

    def _on_revoke(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        if not self._closed:
            self._commit(asynchronous=False, only={(tp.topic, tp.partition) for tp in partitions})
        self._drop(partitions)

    def _on_lost(self, _consumer: Any, partitions: list[TopicPartition]) -> None:
        log.warning("kafka: %r lost %d partition(s) (session timed out)", self, len(partitions))
        self._drop(partitions)

    def _drop(self, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            key = (tp.topic, tp.partition)
            self._states.pop(key, None)
            self._full.discard(key)
            self._backlog.pop(key, None)
            self._paused.discard(key)
            self._runnable.discard(key)
        if self._gate is not None:
            self._gate.forget(lambda d: (d.topic, d.partition) not in self._states)
        self._reshare()

    def _reshare(self) -> None:
        mains = sum(1 for topic, _ in self._states if topic == self.spec.channel)
        self._cap = max(1, math.ceil(self.spec.max_in_flight / max(1, mains)))

    # -- committing -----------------------------------------------------------------------------

    def _commit(self, *, asynchronous: bool, only: set[TP] | None = None) -> None:
        offsets = []
        for (topic, partition), state in self._states.items():
            if only is not None and (topic, partition) not in only:
                continue
            point = state.commit_point()
            if point is not None:
                offsets.append(TopicPartition(topic, partition, point))
                state.committed = point
        if not offsets:
            return
        try:
            if asynchronous:
                self._consumer.commit(offsets=offsets, asynchronous=True)
            else:
                self._consumer.commit(offsets=offsets, asynchronous=False)
        except (KafkaException, RuntimeError) as exc:
            log.warning("kafka: commit of %r failed: %s", self, self._scrub(str(exc)))

    async def _commit_loop(self) -> None:
        while True:
            await asyncio.sleep(self._commit_interval)
            self._commit(asynchronous=True)

    def _committed(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        if error is not None and error.code() != KafkaError._NO_OFFSET:
            log.warning("kafka: commit of %r failed: %s", self, self._scrub(describe(error)))

    def _error(self, error: KafkaError) -> None:
        log.warning("kafka: %r: %s", self, self._scrub(describe(error)))

    # -- receiving ------------------------------------------------------------------------------

    async def _pump(self) -> None:
        consume, idle = self._consumer.consume, _IDLE_MIN
        while not self._stopped:
            while self._ready:
                await self._hand_over(self._ready.popleft())
            if self._runnable:
                await self._run_backlogs()
            try:
                records = consume(_BATCH, 0)
            except (KafkaException, RuntimeError) as exc:
                log.warning("kafka: consuming on %r failed: %s", self, self._scrub(str(exc)))
                records = []
            if not records:
                self._wake.clear()
                if not (self._ready or self._runnable):
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), idle)
                idle = min(idle * 2, _IDLE_MAX)
                continue
            idle = _IDLE_MIN
            for record in records:
                error = record.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        log.warning("kafka: %r: %s", self, self._scrub(describe(error)))
                    continue
                tp: TP = (record.topic() or "", record.partition() or 0)
                state = self._states.get(tp)
                if state is None:
                    continue
                backlog = self._backlog.get(tp)
                if backlog is not None:
                    backlog.append(record)
                    if len(backlog) >= _BACKLOG_MAX:
                        self._pause(tp)
                elif not await self._take(record, tp, state):
                    self._backlog[tp] = deque([record])
                    if tp[0] in self._retry_names:  # not due: read nothing more meanwhile
                        self._pause(tp)

    async def _run_backlogs(self) -> None:
        """Hand over what waited in the partitions that may go on; resume the emptied ones."""
        runnable, self._runnable = self._runnable, set()
        for tp in runnable:
            backlog, state = self._backlog.get(tp), self._states.get(tp)
            if backlog is None or state is None:
                continue
            while backlog:
                if not await self._take(backlog[0], tp, state):
                    break
                backlog.popleft()
            if not backlog and self._backlog.get(tp) is backlog:
                del self._backlog[tp]
            short = tp[0] not in self._retry_names and len(backlog) < _BACKLOG_MAX // 2
            if tp in self._paused and (not backlog or short):
                self._resume(tp)

    async def _take(self, record: Any, tp: TP, state: PartitionOffsets) -> bool:
        """Hand ``record`` over (or settle it unread); False: it must wait (its partition is
        full, or it is a retry not yet due) and the partition is made runnable again later."""
        offset = record.offset()
        message, internal = message_of(record)
        attempt = 1
        if tp[0] in self._retry_names:
            if internal.get(GROUP_HEADER) != self.group_id:
                state.add(offset)
                state.settle(offset)  # another group's retry
                return True
            due = _number(internal.get(DUE_HEADER), 0)
            wait = due / 1000 - time.time()
            if wait > 0:
                asyncio.get_running_loop().call_later(wait, self._unblock, tp, state)
                return False
            attempt = max(1, _number(internal.get(ATTEMPT_HEADER), 1))
        elif len(state) >= self._cap:
            self._full.add(tp)
            return False
        state.add(offset)
        delivery = KafkaDelivery(self, message, attempt, tp[0], tp[1], offset)
        if self._gate is None or self._gate.admit(delivery):
            await self._hand_over(delivery)
        return True

    async def _hand_over(self, delivery: KafkaDelivery) -> None:
        try:
            await self._deliver(delivery)
        except Exception:
            log.exception("kafka: deliver failed on %r; the record will be read again", self)

    def _pause(self, tp: TP) -> None:
        """Fetch nothing more for ``tp`` while records wait in its backlog (librdkafka drops
        what it prefetched; resuming fetches again from the last record read)."""
        if tp in self._paused:
            return
        self._paused.add(tp)
        try:
            self._consumer.pause([TopicPartition(tp[0], tp[1])])
        except (KafkaException, RuntimeError) as exc:
            log.debug("kafka: pausing %s failed: %r", tp, exc)

    def _resume(self, tp: TP) -> None:
        self._paused.discard(tp)
        try:
            self._consumer.resume([TopicPartition(tp[0], tp[1])])
        except (KafkaException, RuntimeError) as exc:
            log.debug("kafka: resuming %s failed: %r", tp, exc)

    def _unblock(self, tp: TP, state: PartitionOffsets) -> None:
        if self._stopped or self._states.get(tp) is not state:
            return  # revoked meanwhile: the new owner reads it
        self._runnable.add(tp)
        self._wake.set()

    # -- settling (called by KafkaDelivery) -----------------------------------------------------

    def settled(self, delivery: KafkaDelivery) -> None:
        tp = (delivery.topic, delivery.partition)
        state = self._states.get(tp)
        if state is None:
            return  # the partition moved on: its new owner reads the record again
        state.settle(delivery.offset)
        if tp in self._full and len(state) < self._cap:
            self._full.discard(tp)
            self._unblock(tp, state)
        if self._gate is not None:
            following = self._gate.next_after(delivery)
            if following is not None:
                self._ready.append(following)
                self._wake.set()

    async def retry(self, delivery: KafkaDelivery, delay: float) -> None:
        if self._gate is None:
            topic = next((t for d, t in self._retry_topics.items() if delay <= d), None)
            topic = topic or list(self._retry_topics.values())[-1]
            original = delivery.message
            due = int((time.time() + delay) * 1000)
            headers = {
                **original.headers,
                GROUP_HEADER: self.group_id,
                ATTEMPT_HEADER: str(delivery.attempt + 1),
                DUE_HEADER: str(due),
            }
            copy = Message(headers, original.body, original.key)
            try:
                await self._move(topic, [copy])
            except Exception as exc:
                log.warning("kafka: no retry topic copy (%s); retrying in place", exc)
            else:
                self.settled(delivery)
                return
        # in place: the same record again after the delay (its key waits, its offset stays open)
        again = KafkaDelivery(
            self, delivery.message, delivery.attempt + 1, delivery.topic, delivery.partition,
            delivery.offset,
        )  # fmt: skip
        if self._gate is not None:
            self._gate.replace(delivery, again)
        asyncio.get_running_loop().call_later(delay, self._again, again)

    def _again(self, delivery: KafkaDelivery) -> None:
        if self._stopped or (delivery.topic, delivery.partition) not in self._states:
            return
        self._ready.append(delivery)
        self._wake.set()

    async def move_dead(self, delivery: KafkaDelivery, dead: DeadLetter) -> None:
        await self._move(dead.channel, [dead.message])


def _number(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default
