"""A subscriber: a pull task, a dispatch task and a lease task around one Pub/Sub subscription.

- Pull: synchronous ``Pull`` RPCs (long polling) while fewer than ``capacity`` messages are
  leased and unsettled (flow control in messages and bytes); each batch is put in publish-time
  order. Unary pulls leave the adapter in charge of every lease, which is what the bus's
  settle-after-the-handler model needs.
- Dispatch: ``await deliver(delivery)`` one message at a time (the bus blocks while its handlers
  are busy: backpressure); with message ordering, one message per ordering key at a time
  (``_ordering``).
- Lease: messages waiting here (not yet taken by the bus) get their ack deadline extended; the
  bus extends the ones its handlers hold (``Delivery.extend``).

``stop()`` ends pulling and dispatching and gives back what the bus has not taken; ``close()``
also gives back what the bus holds unsettled, sends the pending acks, and deletes a fan-out
subscription.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from google.api_core import exceptions as gexc
from google.pubsub_v1 import types

from eventbus.adapter import DeadLetter, Deliver, Message, OrderingGate, SubscriptionSpec
from eventbus_pubsub._acks import AckQueue, AckStats
from eventbus_pubsub._admin import SubscriptionState
from eventbus_pubsub._client import Clients
from eventbus_pubsub._delivery import PubSubDelivery
from eventbus_pubsub._errors import describe

__all__ = ["PubSubSubscription", "Settings"]

log = logging.getLogger("eventbus.pubsub")
_PullRequest: Any = types.PullRequest.pb()
_MAX_PULL = 1000
_FAILURE_PAUSE = 0.05
_SETTLE_WAIT = 0.05
_STOP_GRACE = 1.0
_ATTEMPTS_KEPT = 10_000


@dataclass(frozen=True, slots=True)
class Settings:
    capacity: int  # leased, unsettled messages at most
    max_bytes: int
    timeout: float
    pull_timeout: float


def _publish_order(received: Any) -> tuple[int, int]:
    stamp = received.message.publish_time
    return stamp.seconds, stamp.nanos


class PubSubSubscription:
    def __init__(
        self,
        clients: Clients,
        state: SubscriptionState,
        spec: SubscriptionSpec,
        deliver: Deliver,
        settings: Settings,
        *,
        dead_letter: Callable[[DeadLetter], Awaitable[None]],
        on_close: Callable[[PubSubSubscription], Awaitable[None]],
    ) -> None:
        self.spec = spec
        self.state = state
        self._subscriber = clients.subscriber
        self._deliver = deliver
        self._settings = settings
        self._publish_dead = dead_letter
        self._on_close = on_close
        self._acks = AckQueue(
            clients,
            state.path,
            settings.timeout,
            exactly_once=state.exactly_once,
            ack_deadline=state.ack_deadline,
        )
        self._deadline = state.ack_deadline
        self._outstanding: dict[str, PubSubDelivery] = {}
        self._bytes = 0
        self._threshold = max(1, settings.capacity // 4)
        self._ready: deque[PubSubDelivery] = deque()
        self._gate: OrderingGate[PubSubDelivery] | None = OrderingGate() if state.ordering else None
        self._attempts: OrderedDict[str, int] | None = None if state.dead_letter else OrderedDict()
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._settled = asyncio.Event()
        self._room.set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<PubSubSubscription {self.state.path!r} {state}>"

    @property
    def outstanding(self) -> int:
        return len(self._outstanding)

    @property
    def ack_stats(self) -> AckStats:
        """Acks confirmed, failed and retried (confirmed only with exactly-once delivery)."""
        return self._acks.stats

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        name = self.state.path.rsplit("/", 1)[-1]
        self._tasks = [
            loop.create_task(self._pull_loop(), name=f"eventbus-pubsub-pull:{name}"),
            loop.create_task(self._dispatch_loop(), name=f"eventbus-pubsub-dispatch:{name}"),
            loop.create_task(self._lease_loop(), name=f"eventbus-pubsub-lease:{name}"),
        ]

    async def stop(self) -> None:
        """Stop pulling and dispatching; give back what the bus has not taken.

        A pull already sent is given up to ``_STOP_GRACE`` seconds to come back (what it brings
        is given back at once): cancelling it while its answer is on the way would leave those
        messages leased until their ack deadline.
        """
        tasks, self._tasks = self._tasks, []
        self._stopping = True
        self._room.set()
        if tasks and not tasks[0].done():
            await asyncio.wait(tasks[:1], timeout=_STOP_GRACE)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._give_back(lambda d: not d.handed)
        self._ready.clear()
        if self._gate is not None:
            self._gate.clear()
        await self._acks.flush()

    async def close(self) -> None:
        """Stop; give back every unsettled message; send pending acks; delete if fan-out."""
        if self._closed:
            return
        self._closed = True
        await self.stop()
        self._give_back(lambda d: True)
        await self._acks.flush()
        self._acks.close()
        await self._on_close(self)

    # -- settlement, called by PubSubDelivery -------------------------------------------------

    def acked(self, delivery: PubSubDelivery) -> asyncio.Future[str | None] | None:
        """Queue the ack; with exactly-once, a future of None (confirmed) or why it was not."""
        self._forget(delivery, ok=True)
        return self._acks.ack(delivery.ack_id)

    def nacked(self, delivery: PubSubDelivery, seconds: int) -> None:
        self._forget(delivery, ok=False)
        self._acks.modack(delivery.ack_id, seconds)

    def extend(self, delivery: PubSubDelivery) -> None:
        delivery.touched = asyncio.get_running_loop().time()
        self._acks.modack(delivery.ack_id, self._deadline)

    async def dead_letter(self, delivery: PubSubDelivery, dead: DeadLetter) -> None:
        await self._publish_dead(dead)  # raises if it fails: the bus then nacks
        await delivery.ack()

    def _forget(self, delivery: PubSubDelivery, *, ok: bool) -> None:
        if self._outstanding.pop(delivery.ack_id, None) is not None:
            self._bytes -= delivery.size
        self._settled.set()
        if self._gate is not None:
            following, returned = self._gate.settled(delivery, ok)
            if following is not None:
                self._ready.append(following)
                self._wake.set()
            elif returned:  # redelivered after the nacked one, in order
                self._return(returned)
        self._update_room()

    def _give_back(self, which: Callable[[PubSubDelivery], bool]) -> None:
        self._return([d for d in self._outstanding.values() if which(d)])

    def _return(self, deliveries: list[PubSubDelivery]) -> None:
        """Nack (deadline 0) the given leased deliveries."""
        returned = [d for d in deliveries if d.settle()]
        for delivery in returned:
            del self._outstanding[delivery.ack_id]
            self._bytes -= delivery.size
        self._acks.nack_many([d.ack_id for d in returned])
        self._update_room()

    def _update_room(self) -> None:
        free = self._settings.capacity - len(self._outstanding)
        if free >= self._threshold and self._bytes < self._settings.max_bytes:
            self._room.set()
        else:
            self._room.clear()

    # -- the tasks ----------------------------------------------------------------------------

    async def _pull_loop(self) -> None:
        pause = 0.0
        path = self.state.path
        partial = False
        while not self._stopping:
            if partial and self._outstanding:
                await self._settlement()
            await self._room.wait()
            if self._stopping:
                return
            want = min(_MAX_PULL, self._settings.capacity - len(self._outstanding))
            request = types.PullRequest.wrap(_PullRequest(subscription=path, max_messages=want))
            try:
                response = await self._subscriber.pull(
                    request=request, retry=None, timeout=self._settings.pull_timeout
                )
            except gexc.DeadlineExceeded:
                continue  # nothing arrived while we waited
            except Exception as exc:
                pause = min(5.0, pause * 2 or 0.1)
                log.warning(
                    "eventbus: pulling from %s failed (%s); retrying in %.1f s",
                    path,
                    describe(exc),
                    pause,
                )
                await asyncio.sleep(pause)
                continue
            pause = 0.0
            received = types.PullResponse.pb(response).received_messages
            partial = len(received) < want
            if self._stopping:
                self._acks.nack_many([item.ack_id for item in received])
            elif received:
                self._accept(received)

    async def _settlement(self) -> None:
        """After a partial pull (backlog drained, or held back by ordering keys): wait briefly
        for a settlement and send the acks, so the next long poll sees what they release."""
        self._settled.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_SETTLE_WAIT):
                await self._settled.wait()
        await self._acks.flush()

    def _accept(self, received: Any) -> None:
        now = asyncio.get_running_loop().time()
        batch = sorted(received, key=_publish_order) if len(received) > 1 else received
        gate, ready = self._gate, self._ready
        for item in batch:
            pm = item.message
            body = pm.data
            attempt = item.delivery_attempt or self._count(pm.message_id)
            attributes = pm.attributes
            message = Message({k: attributes[k] for k in attributes}, body, pm.ordering_key or None)
            delivery = PubSubDelivery(
                message, attempt, item.ack_id, self, len(body), now, pm.message_id
            )
            self._outstanding[item.ack_id] = delivery
            self._bytes += delivery.size
            if gate is None or gate.admit(delivery):
                ready.append(delivery)
        self._update_room()
        self._wake.set()

    def _count(self, message_id: str) -> int:
        """Deliveries seen by this subscriber (no dead-letter policy: no delivery_attempt)."""
        attempts = self._attempts
        if attempts is None:
            return 1
        n = attempts.get(message_id, 0) + 1
        attempts[message_id] = n
        attempts.move_to_end(message_id)
        if len(attempts) > _ATTEMPTS_KEPT:
            attempts.popitem(last=False)
        return n

    async def _dispatch_loop(self) -> None:
        ready, deliver = self._ready, self._deliver
        while True:
            while ready:
                delivery = ready.popleft()
                if not delivery.leased:
                    continue
                try:
                    await deliver(delivery)
                except Exception:
                    log.exception("eventbus: deliver failed on %r; the message comes back", self)
                    await delivery.nack()
                    await asyncio.sleep(_FAILURE_PAUSE)
                    continue
                delivery.handed = True
            self._wake.clear()
            await self._wake.wait()

    async def _lease_loop(self) -> None:
        loop = asyncio.get_running_loop()
        every = max(1.0, self._deadline / 3)
        while True:
            await asyncio.sleep(every)
            now = loop.time()
            for delivery in list(self._outstanding.values()):
                if not delivery.handed and now - delivery.touched >= every and delivery.leased:
                    self.extend(delivery)
