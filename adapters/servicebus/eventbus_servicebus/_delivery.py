"""``ServiceBusDelivery`` (the ``Delivery`` protocol) and how one receiver settles messages.

A :class:`Settler` owns one SDK receiver's peek-locked messages: complete (ack), abandon (nack),
dead-letter (publish to the dead-letter channel then complete; or, with
``native_dead_letter``, the entity's own sub-queue with reason and description), renew-lock
(extend), and the
delayed nack: the lock is kept, renewed before it runs out, and the message abandoned once the
delay is over (the broker counts the attempt; a session keeps its order). A settlement that
finds the lock gone is logged, not raised: the broker redelivers that message anyway.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from azure.servicebus import ServiceBusReceivedMessage
from azure.servicebus.aio import ServiceBusReceiver

from eventbus.adapter import DeadLetter, Message, Scrubber
from eventbus_servicebus._errors import is_lock_lost, translated

__all__ = ["ServiceBusDelivery", "Settler"]

log = logging.getLogger("eventbus.servicebus")
#: Renew a held lock when less than this many seconds of it are left.
_RENEW_MARGIN = 0.5


class ServiceBusDelivery:
    """One received message handed to the bus; settle it exactly once."""

    __slots__ = ("_settler", "attempt", "done", "message", "raw", "retry_after")

    def __init__(
        self, settler: Settler, raw: ServiceBusReceivedMessage, message: Message, attempt: int
    ) -> None:
        self._settler = settler
        self.raw = raw
        self.message = message
        self.attempt = attempt
        self.done = asyncio.Event()
        self.retry_after: float | None = None  # a session's nack: redeliver here, after this

    async def ack(self) -> None:
        await self._settler.settle(self, "complete")

    async def nack(self, delay: float | None = None) -> None:
        await self._settler.nack(self, delay)

    async def dead_letter(self, dead: DeadLetter) -> None:
        await self._settler.dead_letter(self, dead)

    async def extend(self) -> None:
        await self._settler.renew(self)

    def __repr__(self) -> str:
        return f"<ServiceBusDelivery attempt={self.attempt} seq={self.raw.sequence_number}>"


class Settler:
    """Settles the messages of one receiver; tracks what is still unsettled."""

    def __init__(
        self,
        receiver: ServiceBusReceiver,
        scrub: Scrubber,
        session: bool,
        on_settled: Callable[[], None] = lambda: None,
        reschedule: Callable[[ServiceBusDelivery, float], Awaitable[None]] | None = None,
        publish_dead: Callable[[DeadLetter], Awaitable[None]] | None = None,
    ) -> None:
        self.receiver = receiver
        self.unsettled: set[ServiceBusDelivery] = set()
        self._scrub = scrub
        self._session = session
        self._on_settled = on_settled
        self._reschedule = reschedule
        self._publish_dead = publish_dead
        self._waits: set[asyncio.Task[None]] = set()

    def track(
        self, raw: ServiceBusReceivedMessage, message: Message, attempt: int
    ) -> ServiceBusDelivery:
        delivery = ServiceBusDelivery(self, raw, message, attempt)
        self.unsettled.add(delivery)
        return delivery

    def _finish(self, delivery: ServiceBusDelivery) -> bool:
        if delivery not in self.unsettled:
            return False
        self.unsettled.discard(delivery)
        delivery.done.set()
        self._on_settled()
        return True

    async def settle(
        self, delivery: ServiceBusDelivery, how: str, reason: str = "", text: str = ""
    ) -> None:
        if not self._finish(delivery):
            return
        receiver, raw = self.receiver, delivery.raw
        operations: dict[str, Callable[[], Awaitable[None]]] = {
            "complete": lambda: receiver.complete_message(raw),
            "abandon": lambda: receiver.abandon_message(raw),
            "dead_letter": lambda: receiver.dead_letter_message(
                raw, reason=reason[:4096], error_description=text[:4096]
            ),
        }
        await self._call(operations[how], f"{how.replace('_', '-')} a message")

    async def nack(self, delivery: ServiceBusDelivery, delay: float | None) -> None:
        if self._session:
            # In a session the message stays locked (the session lock) and is handed over
            # again by the session's worker after the delay: nothing behind it can overtake
            # it, which an abandon would allow (the SDK may already hold the next message).
            if self._finish(delivery):
                delivery.retry_after = delay or 0.0
        elif delay is not None and delay > 0:
            self.later(delivery, delay)
        else:
            await self.settle(delivery, "abandon")

    async def dead_letter(self, delivery: ServiceBusDelivery, dead: DeadLetter) -> None:
        """Publish the annotated message to its dead-letter channel, then complete the original
        (a failed publish raises, and the bus gives the message back); without a publisher,
        dead-letter it natively into the entity's $DeadLetterQueue with reason and description."""
        if delivery not in self.unsettled:
            return
        if self._publish_dead is None:
            await self.settle(delivery, "dead_letter", dead.reason, dead.description)
            return
        await self._publish_dead(dead)
        await self.settle(delivery, "complete")

    async def renew(self, delivery: ServiceBusDelivery) -> None:
        if delivery not in self.unsettled:
            return
        if self._session:
            session = self.receiver.session
            await self._call(lambda: session.renew_lock(), "renew a session lock")
        else:
            await self._call(lambda: self.receiver.renew_message_lock(delivery.raw), "renew a lock")

    async def _call(self, operation: Callable[[], Awaitable[Any]], action: str) -> None:
        try:
            await operation()
        except Exception as exc:
            if is_lock_lost(exc):
                log.warning(
                    "eventbus: could not %s: the lock was lost; it will be redelivered", action
                )
                return
            with translated(f"could not {action}", self._scrub):
                raise

    # -- delayed redelivery --------------------------------------------------------------------

    def later(self, delivery: ServiceBusDelivery, delay: float) -> None:
        """Abandon ``delivery`` after ``delay`` seconds, holding its lock meanwhile."""
        if delivery not in self.unsettled:
            return
        task = asyncio.get_running_loop().create_task(self._hold(delivery, delay))
        self._waits.add(task)
        task.add_done_callback(self._waits.discard)

    async def _hold(self, delivery: ServiceBusDelivery, delay: float) -> None:
        try:
            if self._reschedule is not None:
                # A queue: schedule a copy for later, then complete this one.
                self._finish(delivery)
                await self._reschedule(delivery, delay)
                await self._call(
                    lambda: self.receiver.complete_message(delivery.raw), "complete a message"
                )
                return
            loop = asyncio.get_running_loop()
            due = loop.time() + delay
            while (left := due - loop.time()) > 0:
                lock_left = self._lock_left(delivery)
                if lock_left is not None and lock_left - _RENEW_MARGIN < left:
                    await asyncio.sleep(max(0.0, lock_left - _RENEW_MARGIN))
                    await self.renew(delivery)
                else:
                    await asyncio.sleep(left)
            await self.settle(delivery, "abandon")
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning(
                "eventbus: a delayed redelivery failed; the lock will expire", exc_info=True
            )

    def _lock_left(self, delivery: ServiceBusDelivery) -> float | None:
        until = (
            self.receiver.session.locked_until_utc
            if self._session
            else delivery.raw.locked_until_utc
        )
        if until is None:
            return None
        return (until - datetime.now(UTC)).total_seconds()

    async def release_all(self) -> None:
        """Give every unsettled message back (abandon), e.g. when the subscription closes."""
        for task in list(self._waits):
            task.cancel()
        for delivery in list(self.unsettled):
            try:
                await self.settle(delivery, "abandon")
            except Exception:
                log.debug("eventbus: abandon on close failed; the lock will expire", exc_info=True)
