"""``SqsSubscription``: long-polling receive loops on one queue, handing messages to the bus.

- Flow control: the subscription never holds more than ``max_in_flight`` received, unsettled
  messages: a poller asks SQS for at most the room left (and at most 10), so nothing waits in
  the adapter while its visibility timeout runs out.
- Pollers: standard queues have ``pollers`` concurrent ``ReceiveMessage`` loops taking up to 10
  messages each. FIFO queues (ordered channels) take one message per call: SQS then hands out
  one message per message group at a time (a group is locked while its message is in flight,
  also while a nacked one waits out its delay), so order per key holds with no reordering in
  the adapter, and as many groups are worked on at once as there are pollers (up to
  ``max_in_flight``).
- Settling: acks share ``DeleteMessageBatch`` calls; nack without delay and give-backs share
  ``ChangeMessageVisibilityBatch`` calls (visibility 0); nack with a delay, and lock renewal,
  are one ``ChangeMessageVisibility`` each.
- Stop and close: ``stop`` ends the loops after their poll in flight (what it brings is given
  back); ``close`` also waits for those polls (at most ``wait_time`` plus the call timeout) and
  gives back every message not settled, so SQS delivers it again at once.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any

from eventbus.adapter import AdapterError, DeadLetter, Deliver, OrderingGate, SubscriptionSpec
from eventbus_aws._admin import QueueRef
from eventbus_aws._batch import ReceiptBatcher
from eventbus_aws._client import Clients
from eventbus_aws._codec import from_sqs
from eventbus_aws._config import AwsConfig
from eventbus_aws._delivery import MAX_VISIBILITY, SqsDelivery
from eventbus_aws._errors import translated
from eventbus_aws._names import MAX_BATCH
from eventbus_aws._publish import KEYED

__all__ = ["SqsSubscription"]

log = logging.getLogger("eventbus.aws")

_SYSTEM_ATTRIBUTES: list[Any] = ["ApproximateReceiveCount", "MessageGroupId"]
_BACKOFF_MAX = 10.0


def visibility_for(ack_wait: float) -> int:
    """The visibility timeout of a received message: the ack wait in whole seconds (>= 1)."""
    return max(1, min(MAX_VISIBILITY, math.ceil(ack_wait)))


class SqsSubscription:
    def __init__(
        self,
        clients: Clients,
        queue: QueueRef,
        spec: SubscriptionSpec,
        deliver: Deliver,
        config: AwsConfig,
        where: str,
        *,
        dead_letter: Callable[[DeadLetter], Awaitable[None]],
        on_close: Callable[[SqsSubscription], Awaitable[None]],
    ) -> None:
        self.queue = queue
        self.spec = spec
        self._sqs = clients.sqs
        self._deliver = deliver
        self._config = config
        self._where = where
        self._publish_dead = dead_letter
        self._on_close = on_close
        self._visibility = visibility_for(spec.ack_wait)
        self._batch = 1 if queue.fifo else min(MAX_BATCH, spec.max_in_flight)
        self._pollers = (
            min(spec.max_in_flight, 10) if queue.fifo else config.pollers_for(spec.max_in_flight)
        )
        if queue.fifo and config.pollers is not None:
            self._pollers = config.pollers
        self._held = 0  # received and not settled (or reserved for a poll in flight)
        self._room = asyncio.Condition()
        self._open: dict[SqsDelivery, None] = {}
        self._stopping = False
        self._closed = False
        self._tasks: list[asyncio.Task[None]] = []
        self._gate: OrderingGate[SqsDelivery] | None = OrderingGate() if queue.fifo else None
        self._handing: set[asyncio.Task[None]] = set()
        self._deletes = ReceiptBatcher(self._delete_batch, "deleting", where, {})
        self._returns = ReceiptBatcher(
            self._visibility_batch, "giving back", where, {"VisibilityTimeout": 0}
        )

    def __repr__(self) -> str:
        return f"<SqsSubscription {self.queue.name!r} on {self._where}>"

    # -- receiving ----------------------------------------------------------------------------

    def start(self) -> None:
        for i in range(self._pollers):
            self._tasks.append(
                asyncio.create_task(self._poll(), name=f"eventbus-sqs-{self.queue.name}-{i}")
            )

    async def _reserve(self) -> int:
        async with self._room:
            await self._room.wait_for(
                lambda: self._stopping or self._held < self.spec.max_in_flight
            )
            if self._stopping:
                return 0
            n = min(self._batch, self.spec.max_in_flight - self._held)
            self._held += n
            return n

    async def _release(self, n: int) -> None:
        if n:
            async with self._room:
                self._held -= n
                self._room.notify_all()

    async def _poll(self) -> None:
        backoff = 0.5
        while not self._stopping:
            n = await self._reserve()
            if not n:
                break
            try:
                with translated(f"receiving from the SQS queue {self.queue.name!r}", self._where):
                    response = await self._sqs.receive_message(
                        QueueUrl=self.queue.url,
                        MaxNumberOfMessages=n,
                        WaitTimeSeconds=self._config.wait_time,
                        VisibilityTimeout=self._visibility,
                        MessageAttributeNames=["All"],
                        MessageSystemAttributeNames=_SYSTEM_ATTRIBUTES,
                    )
            except AdapterError as exc:
                await self._release(n)
                log.warning("eventbus: %s; retrying in %.1f s", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(_BACKOFF_MAX, backoff * 2)
                continue
            backoff = 0.5
            received = response.get("Messages") or []
            await self._release(n - len(received))
            for raw in received:
                await self._hand_over(raw)

    async def _hand_over(self, raw: Any) -> None:
        system = raw.get("Attributes") or {}
        group = system.get("MessageGroupId")
        key = group if group is not None and group.startswith(KEYED) else None
        message = from_sqs(
            raw.get("Body", ""), raw.get("MessageAttributes") or {}, key, raw.get("MessageId")
        )
        attempt = int(system.get("ApproximateReceiveCount", "1") or 1)
        delivery = SqsDelivery(message, attempt, raw["ReceiptHandle"], self)
        self._open[delivery] = None
        if self._stopping:
            delivery.settled = True
            await self.give_back(delivery, 0)
            return
        if self._gate is None or self._gate.admit(delivery):
            await self._pass(delivery)

    async def _pass(self, delivery: SqsDelivery) -> None:
        try:
            await self._deliver(delivery)
        except Exception as exc:  # the bus refused it: SQS delivers it again
            log.error("eventbus: handing a message to the bus failed: %r", exc)
            if not delivery.settled:
                delivery.settled = True
                await self.give_back(delivery, 0)

    # -- settling -----------------------------------------------------------------------------

    async def _settled(self, delivery: SqsDelivery, ok: bool) -> None:
        if self._open.pop(delivery, False) is None:
            await self._release(1)
        if self._gate is None:
            return
        after, back = self._gate.settled(delivery, ok)
        for waiting in back:
            if not waiting.settled:
                waiting.settled = True
                await self.give_back(waiting, 0)
        if after is not None and not after.settled:
            task = asyncio.create_task(self._pass(after))
            self._handing.add(task)
            task.add_done_callback(self._handing.discard)

    async def _delete_batch(self, entries: Any) -> Any:
        return await self._sqs.delete_message_batch(QueueUrl=self.queue.url, Entries=entries)

    async def _visibility_batch(self, entries: Any) -> Any:
        return await self._sqs.change_message_visibility_batch(
            QueueUrl=self.queue.url, Entries=entries
        )

    async def delete(self, delivery: SqsDelivery) -> None:
        try:
            await self._deletes.submit(delivery.receipt)
        finally:
            await self._settled(delivery, True)

    async def give_back(self, delivery: SqsDelivery, seconds: int) -> None:
        try:
            if seconds <= 0:
                await self._returns.submit(delivery.receipt)
            else:
                with translated("delaying a message", self._where):
                    await self._sqs.change_message_visibility(
                        QueueUrl=self.queue.url,
                        ReceiptHandle=delivery.receipt,
                        VisibilityTimeout=seconds,
                    )
        finally:
            await self._settled(delivery, False)

    async def extend(self, delivery: SqsDelivery) -> None:
        with translated("extending a message's visibility", self._where):
            await self._sqs.change_message_visibility(
                QueueUrl=self.queue.url,
                ReceiptHandle=delivery.receipt,
                VisibilityTimeout=self._visibility,
            )

    async def dead_letter(self, delivery: SqsDelivery, dead: DeadLetter) -> None:
        await self._publish_dead(dead)  # raises if it fails: the bus then nacks
        await delivery.ack()

    # -- lifecycle ----------------------------------------------------------------------------

    async def _wake(self) -> None:
        async with self._room:
            self._room.notify_all()

    async def stop(self) -> None:
        """Take no new messages; what is handed over can still be settled."""
        self._stopping = True
        await self._wake()

    async def close(self) -> None:
        """Stop, wait for the polls in flight, give back every unsettled message."""
        if self._closed:
            return
        self._closed = True
        await self.stop()
        if self._tasks:
            _, late = await asyncio.wait(
                self._tasks, timeout=self._config.wait_time + self._config.timeout
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
        unsettled = [d for d in self._open if not d.settled]
        for delivery in unsettled:
            delivery.settled = True
        results = await asyncio.gather(
            *(self.give_back(d, 0) for d in unsettled), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.warning("eventbus: giving back a message on close failed: %r", result)
        await self._deletes.drain()
        await self._returns.drain()
        await self._on_close(self)
