"""Receive loops: peek-lock pulls handed to the bus, with backpressure.

Without sessions one receiver asks for as many messages as the subscription has free slots
(``max_in_flight`` minus what it holds unsettled), so competing consumers share the work and
no message waits locked in a buffer. It receives once all its messages are settled, or after a
short grace with half the slots free: this SDK reads and writes one connection under one lock,
so a receive call running while handlers settle slows both down. With sessions, up to ``max_concurrent_sessions`` workers each
lock the next available session and hand its messages over one at a time, each only after the
previous one is settled: the order per session (per partition key) holds, retries included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from azure.servicebus import NEXT_AVAILABLE_SESSION, ServiceBusReceivedMessage
from azure.servicebus.aio import ServiceBusReceiver
from azure.servicebus.exceptions import OperationTimeoutError, ServiceBusError

from eventbus.adapter import DeadLetter, Deliver, Scrubber
from eventbus_servicebus._convert import from_received
from eventbus_servicebus._delivery import ServiceBusDelivery, Settler
from eventbus_servicebus._errors import describe
from eventbus_servicebus._replies import keep_session

__all__ = ["ReceiveOptions", "SessionLoop", "SingleLoop"]

log = logging.getLogger("eventbus.servicebus")
_MAX_BATCH = 100
_BACKOFF = 1.0
_GRACE = 0.05

OpenReceiver = Callable[[str | None], ServiceBusReceiver]
Reschedule = Callable[[ServiceBusDelivery, float], Awaitable[None]]


@dataclass(frozen=True)
class ReceiveOptions:
    max_in_flight: int
    receive_wait: float
    session_idle: float
    scrub: Scrubber
    reschedule: Reschedule | None = None
    publish_dead: Callable[[DeadLetter], Awaitable[None]] | None = None


def _delivery(settler: Settler, raw: ServiceBusReceivedMessage) -> ServiceBusDelivery:
    message, earlier = from_received(raw)
    return settler.track(raw, message, earlier + (raw.delivery_count or 0) + 1)


class SingleLoop:
    """One peek-lock receiver (no sessions)."""

    def __init__(
        self, receiver: ServiceBusReceiver, deliver: Deliver, options: ReceiveOptions
    ) -> None:
        self._room = asyncio.Event()
        self.settler = Settler(
            receiver, options.scrub, False, self._room.set, options.reschedule, options.publish_dead
        )
        self._receiver = receiver
        self._deliver = deliver
        self._options = options
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="eventbus:servicebus")

    async def _run(self) -> None:
        settler, limit = self.settler, self._options.max_in_flight
        low_water = max(1, limit // 2)
        waiting_since: float | None = None
        while not self._stopping:
            free = limit - len(settler.unsettled)
            if free < limit:
                # A receive call holds the connection and delays settlements on it: receive
                # once everything is settled, or, past a short grace, once half the slots are
                # free (so one slow handler does not stall the subscription).
                now = time.monotonic()
                waiting_since = waiting_since or now
                if free <= 0 or free < low_water or now - waiting_since < _GRACE:
                    self._room.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._room.wait(), _GRACE)
                    continue
            waiting_since = None
            try:
                batch = await self._receiver.receive_messages(
                    max_message_count=min(free, _MAX_BATCH),
                    max_wait_time=self._options.receive_wait,
                )
            except Exception as exc:
                if self._stopping:
                    return
                log.warning(
                    "eventbus: receiving failed (%s); retrying", self._options.scrub(describe(exc))
                )
                await asyncio.sleep(_BACKOFF)
                continue
            for raw in batch:
                delivery = _delivery(settler, raw)
                if self._stopping:
                    await delivery.nack()
                    continue
                await self._deliver(delivery)

    def stop(self) -> None:
        self._stopping = True
        self._room.set()

    async def close(self) -> None:
        self.stop()
        await _finish(self._task, self._options.receive_wait + 1.0)
        await self.settler.release_all()
        await self._receiver.close()


class SessionLoop:
    """Workers that each own one session at a time (sessions=true)."""

    def __init__(
        self, open_receiver: OpenReceiver, deliver: Deliver, options: ReceiveOptions, workers: int
    ) -> None:
        self._open = open_receiver
        self._deliver = deliver
        self._options = options
        self._workers = workers
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._settlers: set[Settler] = set()

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._work(), name=f"eventbus:servicebus-session-{n}")
            for n in range(self._workers)
        ]

    async def _work(self) -> None:
        while not self._stopping:
            receiver = self._open(NEXT_AVAILABLE_SESSION)  # type: ignore[arg-type]
            try:
                await receiver.__aenter__()
            except (OperationTimeoutError, ServiceBusError) as exc:
                await receiver.close()
                if not isinstance(exc, OperationTimeoutError) and not self._stopping:
                    log.debug("eventbus: no session: %s", self._options.scrub(describe(exc)))
                    await asyncio.sleep(0.2)
                continue
            settler = Settler(
                receiver, self._options.scrub, True, publish_dead=self._options.publish_dead
            )
            self._settlers.add(settler)
            keeper = asyncio.get_running_loop().create_task(
                keep_session(receiver, self._options.scrub)
            )
            try:
                await self._drain_session(receiver, settler)
            except Exception as exc:
                log.warning(
                    "eventbus: session receiving failed (%s)", self._options.scrub(describe(exc))
                )
            finally:
                keeper.cancel()
                await settler.release_all()
                self._settlers.discard(settler)
                await receiver.close()

    async def _drain_session(self, receiver: ServiceBusReceiver, settler: Settler) -> None:
        idle_since = time.monotonic()
        while not self._stopping:
            batch = await receiver.receive_messages(
                max_message_count=1, max_wait_time=self._options.receive_wait
            )
            if not batch:
                if time.monotonic() - idle_since >= self._options.session_idle:
                    return  # let another worker (or process) take this session later
                continue
            for raw in batch:
                delivery = _delivery(settler, raw)
                while True:
                    if self._stopping:
                        await receiver.abandon_message(raw)
                        return
                    await self._deliver(delivery)
                    await delivery.done.wait()  # the next message of the session waits
                    if delivery.retry_after is None:
                        break
                    await asyncio.sleep(delivery.retry_after)
                    delivery = settler.track(raw, delivery.message, delivery.attempt + 1)
            idle_since = time.monotonic()

    def stop(self) -> None:
        self._stopping = True

    async def close(self) -> None:
        self.stop()
        for settler in list(self._settlers):
            await settler.release_all()
        for task in self._tasks:
            await _finish(task, self._options.receive_wait + self._options.session_idle + 1.0)


async def _finish(task: asyncio.Task[None] | None, timeout: float) -> None:
    if task is None or task.done():
        return
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    except Exception:
        log.debug("eventbus: receive loop ended with an error", exc_info=True)
