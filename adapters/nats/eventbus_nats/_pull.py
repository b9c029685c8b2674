"""A JetStream subscription: a pull consumer read through a private inbox.

Flow control by credit: at most ``max_in_flight`` messages are requested or waiting here at any
time, and the pump awaits ``deliver`` for each one, so a busy bus stops the pulling. Pull
requests expire on the server after ``pull_expires``; a watchdog re-pulls when the server forgot
them (restart, reconnect) and re-creates a fan-out consumer the server deleted, from the
lowest sequence not yet acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

from eventbus.adapter import DeadLetter, Deliver, Message, Scrubber, SubscriptionSpec
from eventbus_nats._client import AdapterClient
from eventbus_nats._delivery import NAK, TERM, JetStreamDelivery
from eventbus_nats._errors import translated

__all__ = ["PullSubscription"]

log = logging.getLogger("eventbus.nats")
_GRACE = 1.0  # seconds past a pull request's expiry before the watchdog calls it lost
_NO_HEADERS: dict[str, str] = {}


class PullSubscription:
    """One subscription on one JetStream consumer (durable group or ephemeral fan-out)."""

    def __init__(
        self,
        nc: Client,
        spec: SubscriptionSpec,
        deliver: Deliver,
        *,
        stream: str,
        consumer: str,
        durable: bool,
        expires: float,
        scrub: Scrubber,
        recover: Callable[[PullSubscription], Awaitable[None]],
        dead_letter: Callable[[JetStreamDelivery, DeadLetter], Awaitable[None]],
        on_close: Callable[[PullSubscription], Awaitable[None]],
    ) -> None:
        self.spec = spec
        self.stream = stream
        self.consumer = consumer
        self.durable = durable
        self._nc = nc
        self._deliver = deliver
        self._scrub = scrub
        self._recover = recover
        self._move = dead_letter
        self._on_close = on_close
        self._capacity = max(1, spec.max_in_flight)
        self._threshold = max(1, self._capacity // 2)
        self._expires = expires
        self._request_tail = b',"expires":%d}' % int(expires * 1e9)
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{consumer}"
        self._inbox = ""
        self._sub: Subscription | None = None
        self._buffer: deque[Msg] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._pending = 0  # requested from the server, not yet arrived
        self._in_hand = 0  # being handed to the bus
        self._last_pull = 0.0
        self._unsettled: dict[JetStreamDelivery, None] = {}
        self._open_sequences: dict[int, None] = {}  # fan-out only: not yet acked or termed
        self.highest_sequence = 0
        self._pump_task: asyncio.Task[None] | None = None
        self._watch_task: asyncio.Task[None] | None = None
        self._recoveries: set[asyncio.Task[None]] = set()
        self._stopped = False
        self._closed = False

    def __repr__(self) -> str:
        state = "closed" if self._closed else "stopped" if self._stopped else "open"
        return (
            f"<PullSubscription {self.spec.channel!r} group={self.spec.group!r} "
            f"stream={self.stream!r} consumer={self.consumer!r} {state}>"
        )

    @property
    def resume_sequence(self) -> int:
        """Where a re-created fan-out consumer starts: the lowest sequence not yet done."""
        if self._open_sequences:
            return min(self._open_sequences)
        return self.highest_sequence + 1

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        with translated(f"subscribing to {self.spec.channel!r}", self._scrub):
            self._sub = await self._nc.subscribe(self._inbox, cb=self._arrive)
        loop = asyncio.get_running_loop()
        name = f"eventbus-nats:{self.spec.channel}"
        self._pump_task = loop.create_task(self._pump(), name=name)
        self._watch_task = loop.create_task(self._watch(), name=f"{name}:watch")
        await self.pull()

    async def stop(self) -> None:
        """Stop pulling and delivering; what was pulled but not handed over goes back."""
        if self._stopped:
            return
        self._stopped = True
        pump = self._pump_task
        if pump is not None and pump is not asyncio.current_task():
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
        while self._buffer:
            await self._give_back(self._buffer.popleft().reply)

    async def close(self) -> None:
        """Give back every unsettled message (prompt redelivery) and stop listening."""
        if self._closed:
            return
        await self.stop()
        self._closed = True
        for delivery in list(self._unsettled):
            delivery.done = True
            self.settled(delivery, False)
            await self._give_back(delivery.reply)
        for task in (self._watch_task, *self._recoveries):
            if task is not None:
                task.cancel()
        sub, self._sub = self._sub, None
        if sub is not None and not self._nc.is_closed:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        await self._on_close(self)

    def reconnected(self) -> None:
        """The server may have forgotten our pull requests: recover and pull again."""
        self._pending = 0
        if not self._stopped:
            task = asyncio.get_running_loop().create_task(self._recover_and_pull())
            self._recoveries.add(task)
            task.add_done_callback(self._recoveries.discard)

    # -- settling (called by JetStreamDelivery) -------------------------------------------------

    async def send(self, reply: str, payload: bytes) -> None:
        nc = self._nc
        if isinstance(nc, AdapterClient) and nc.queue_publish(
            reply, "", None, payload, from_server=True
        ):
            await nc.kick()
            return
        with translated("settling a JetStream message", self._scrub):
            await nc.publish(reply, payload)

    async def _give_back(self, reply: str) -> None:
        """NAK for prompt redelivery; without a connection the ack wait brings it back."""
        try:
            await self.send(reply, NAK)
        except Exception as exc:
            log.debug("nats: could not give a message back: %r", exc)

    def settled(self, delivery: JetStreamDelivery, final: bool) -> None:
        self._unsettled.pop(delivery, None)
        if final and not self.durable:
            self._open_sequences.pop(delivery.sequence, None)

    async def dead_letter(self, delivery: JetStreamDelivery, dead: DeadLetter) -> None:
        await self._move(delivery, dead)  # stored on the dead-letter subject, or raises
        if not delivery.done:
            delivery.done = True
            self.settled(delivery, True)
            await self.send(delivery.reply, TERM)

    # -- receiving -------------------------------------------------------------------------------

    async def pull(self) -> None:
        """Ask for as many messages as there is room for (nothing when little room is left)."""
        if self._stopped:
            return
        room = self._capacity - self._pending - len(self._buffer) - self._in_hand
        if room < self._threshold:
            return
        self._pending += room
        self._last_pull = time.monotonic()
        request = b'{"batch":%d' % room + self._request_tail
        try:
            await self._nc.publish(self._next_subject, request, reply=self._inbox)
        except Exception as exc:  # reconnecting with a full buffer, or closed: the watchdog retries
            self._pending -= room
            log.debug("nats: pull request failed: %r", exc)

    async def _arrive(self, msg: Msg) -> None:
        if not msg.reply:
            await self._status(msg)
            return
        if self._pending:
            self._pending -= 1
        if self._stopped:
            await self._give_back(msg.reply)
            return
        self._buffer.append(msg)
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    async def _status(self, msg: Msg) -> None:
        headers = msg.headers or _NO_HEADERS
        status = headers.get("Status")
        if status == "100":  # idle heartbeat
            return
        left = headers.get("Nats-Pending-Messages")
        if left is not None and left.isdigit():
            self._pending = max(0, self._pending - int(left))
        else:
            self._pending = 0
        description = str(headers.get("Description", ""))
        if status == "409" and "Deleted" in description:
            self.reconnected()  # the consumer is gone: recover it
            return
        if status == "409":  # e.g. too many waiting pulls: do not hammer the server
            await asyncio.sleep(0.05)
        elif status not in ("404", "408"):
            log.warning("nats: pull on %r answered %s %s", self, status, description)
        await self.pull()

    async def _pump(self) -> None:
        buffer, deliver = self._buffer, self._deliver
        loop = asyncio.get_running_loop()
        while True:
            if not buffer:
                self._wake = loop.create_future()
                await self._wake
                continue
            msg = buffer.popleft()
            message = Message(msg.headers or _NO_HEADERS, msg.data)
            delivery = JetStreamDelivery(message, msg.reply, self)
            self._unsettled[delivery] = None
            if not self.durable:
                self._open_sequences[delivery.sequence] = None
                if delivery.sequence > self.highest_sequence:
                    self.highest_sequence = delivery.sequence
            self._in_hand = 1
            try:
                await deliver(delivery)
            except Exception:
                log.exception("nats: deliver failed on %r; the message goes back", self)
                await delivery.nack()
            finally:
                self._in_hand = 0
            await self.pull()

    async def _watch(self) -> None:
        while not self._stopped:
            await asyncio.sleep(self._expires)
            if self._stopped or self._in_hand or self._buffer:
                continue
            waiting = self._sub.pending_msgs if self._sub is not None else 0
            overdue = time.monotonic() - self._last_pull > self._expires + _GRACE
            if self._pending and overdue and not waiting:
                log.info("nats: pull requests of %r went unanswered; pulling again", self)
                self._pending = 0
                await self._recover_and_pull()
            else:
                await self.pull()

    async def _recover_and_pull(self) -> None:
        try:
            await self._recover(self)
        except Exception:
            log.warning("nats: could not recover the consumer of %r", self, exc_info=True)
            return
        await self.pull()
