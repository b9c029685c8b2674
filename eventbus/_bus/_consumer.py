"""One subscription's consume pipeline: decode, filter, middleware, handler, settle.

Settlement rules, the same on every adapter:
- success: ack;
- the handler raised, attempts left: retry after the RetryPolicy's delay (broker nack-with-delay
  where native, else sleep-then-nack, else an in-process retry where the broker cannot redeliver);
- attempts exhausted, or the message is not a valid event (or its data not the declared type):
  dead-letter with the failure recorded as extension attributes, then go on with the next one;
  a dead letter too large for the broker is shortened, then truncated (see ``_dead_letters``);
- a dead letter that cannot be stored: nack, never ack (the broker keeps the message).

Every failed attempt is logged (rate-limited per subscription): retries at INFO (the traceback
when DEBUG is enabled), dead letters at WARNING with the traceback, drops and dead-letter
failures at ERROR.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections import OrderedDict
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eventbus._adapter._contract import (
    Adapter,
    AdapterSubscription,
    BatchingAdapter,
    Delivery,
    Semantic,
    SubscriptionSpec,
)
from eventbus._bus._dead_letters import DEAD_LETTER_ATTRIBUTES, DeadLetterer, log_fields, sanitise
from eventbus._bus._intake import Intake
from eventbus._bus._middleware import ConsumeContext, ConsumeNext
from eventbus._bus._pool import WorkerPool
from eventbus._bus._ratelimit import RateLimitedLog
from eventbus._bus._retry import RetryPolicy
from eventbus._errors import DataDecodeError, RejectedEventError, RetryLaterError
from eventbus._rpc._attributes import REPLY_TO
from eventbus._wire._bindings import decoder
from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._bus._handler import HandlerInfo
    from eventbus._rpc import Replier

__all__ = ["DEAD_LETTER_ATTRIBUTES", "Subscription", "SubscriptionStats"]

log = logging.getLogger("eventbus")


@dataclass
class SubscriptionStats:
    """Counts of one subscription (``Subscription.stats``), since it started; read them any
    time (they are plain integers, updated on the bus's event loop)."""

    received: int = 0
    """Messages delivered by the broker, redeliveries included."""
    handled: int = 0
    """Events the handler finished without raising (each acked once)."""
    retried: int = 0
    """Failed attempts that will be retried (the retry policy was not yet exhausted)."""
    dead_lettered: int = 0
    """Messages sent to the dead-letter channel (or dropped after logging, with
    ``dead_letter_channel=False``): handler errors after the last attempt, rejected events,
    undecodable messages and data errors."""
    filtered: int = 0
    """Events on the channel whose type did not match the subscription's pattern (acked
    unhandled; several patterns can share a channel)."""
    dropped: int = 0
    """Messages lost by the broker client before delivery (at-most-once adapters)."""
    expired: int = 0
    """Requests dropped unanswered: their requester had given up (``expirytime`` passed)."""


@dataclass
class _Plan:
    """How this subscription retries on its adapter (decided once at subscribe time)."""

    broker_redelivers: bool
    broker_delays: bool
    broker_counts: bool
    native_dead_letter: bool
    renews_locks: bool

    @classmethod
    def for_adapter(cls, adapter: Adapter) -> _Plan:
        caps = adapter.capabilities
        return cls(
            broker_redelivers=caps.has(Semantic.AT_LEAST_ONCE),
            # native or adapter-emulated (Kafka's retry topics, attempt headers)
            broker_delays=caps.has(Semantic.DELAYED_REDELIVERY),
            broker_counts=caps.has(Semantic.ATTEMPT_COUNT),
            native_dead_letter=caps.has(Semantic.DEAD_LETTER),  # native or adapter-emulated
            renews_locks=caps.has(Semantic.LOCK_RENEWAL),
        )


@dataclass
class _Runtime:
    """What a subscription needs from its bus (the bus itself stays out of this module)."""

    adapter: Adapter
    binding: str
    chain: Callable[[ConsumeNext], ConsumeNext]
    rng: random.Random = field(default_factory=random.Random)
    replier: Replier | None = None  # answers requests (events carrying a reply address)


class Subscription:
    """A running (or pending) subscription. ``await`` it to wait until it is listening."""

    def __init__(
        self,
        runtime: _Runtime,
        *,
        pattern: str,
        handler: HandlerInfo,
        spec: SubscriptionSpec,
        type_filter: Callable[[str], bool] | None,
        retry: RetryPolicy,
    ) -> None:
        self._rt = runtime
        self.pattern = pattern
        """The event type or pattern subscribed to."""
        self.handler = handler
        """The handler and what the bus read from its signature."""
        self.spec = spec = dataclasses.replace(spec, on_dropped=self._count_dropped)
        """What the bus asked the adapter for (channel, group, ack wait...)."""
        self.retry = retry
        """The retry policy in force (the subscription's, or the bus's)."""
        self.stats = SubscriptionStats()
        """Counts since it started: received, handled, retried, dead-lettered..."""
        self._filter = type_filter
        self._plan = _Plan.for_adapter(runtime.adapter)
        self._call = runtime.chain(self._invoke)
        # Without consume middleware an ``async def handler(event)`` is called as it is.
        self._direct = handler.direct if self._call == self._invoke else None

        self._local_attempts: OrderedDict[tuple[str, str], int] = OrderedDict()  # (source, id)
        # Lock renewal (where the adapter renews locks): how often; the pool times deliveries.
        self._renew_every = (
            spec.ack_wait / 3 if self._plan.renews_locks and spec.ack_wait > 0 else 0.0
        )
        self._renewer: asyncio.Task[None] | None = None
        self._decode = decoder(runtime.binding)
        self._data_type = handler.data_type
        # The pool times its deliveries only where locks are renewed (see _renew_locks).
        self._pool: WorkerPool[Delivery] = WorkerPool(
            spec.max_in_flight,
            self._handle,
            name=f"eventbus:{pattern}",
            track=bool(self._renew_every),
        )
        self._intake = Intake(self._pool)  # deliver, deliver_many, pause state, batched acks
        self._adapter_sub: AdapterSubscription | None = None
        self._started: asyncio.Future[None] | None = None
        self._retry_log = RateLimitedLog(log, f"retry lines on {pattern!r}")
        self._dead_log = RateLimitedLog(log, f"dead-letter lines on {pattern!r}")
        self._dead_letterer = DeadLetterer(
            runtime.adapter,
            runtime.binding,
            spec,
            native=self._plan.native_dead_letter,
            log=self._dead_log,
        )

    # -- public ------------------------------------------------------------------------------

    @property
    def channel(self) -> str:
        """The channel (or channel pattern) listened on."""
        return self.spec.channel

    @property
    def group(self) -> str | None:
        """The consumer group, or None for fan-out."""
        return self.spec.group

    @property
    def dead_letter_channel(self) -> str | None:
        """Where failed events go (None: dropped after logging)."""
        return self.spec.dead_letter_channel

    @property
    def in_flight(self) -> int:
        """Messages taken and not yet settled (handlers running or waiting to run)."""
        return self._pool.held

    @property
    def listening(self) -> bool:
        """True while started and taking messages: False before it listens, after it failed
        to start and from the moment it closes."""
        return self._adapter_sub is not None and not self._intake.closing

    @property
    def abandoned(self) -> int:
        """Deliveries still being handled when ``close()`` ran out of time (0 after a clean
        drain); the broker redelivers them."""
        return self._pool.abandoned

    def __await__(self) -> Generator[Any, None, Subscription]:
        return self._wait_started().__await__()

    async def _wait_started(self) -> Subscription:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._started)
        return self

    async def close(self, timeout: float | None = 30.0) -> bool:
        """Stop taking messages, let in-flight handlers finish (up to ``timeout`` seconds), then
        stop listening. Messages not settled by then go back to the broker. True if drained."""
        intake = self._intake
        if intake.closing:
            await intake.closed.wait()
            return True
        intake.begin_close()
        try:
            if self._adapter_sub is not None:
                await self._adapter_sub.stop()
            drained = await self._pool.drain(timeout)
            if self._renewer is not None:
                self._renewer.cancel()
            if self._adapter_sub is not None:
                await self._adapter_sub.close()
        finally:
            intake.closed.set()
            self._retry_log.flush()
            self._dead_log.flush()
        if not drained:
            log.warning(
                "eventbus: subscription %r closed with %d handlers still running; "
                "their messages will be redelivered",
                self.pattern,
                self.abandoned,
            )
        return drained

    def __repr__(self) -> str:
        return (
            f"Subscription(pattern={self.pattern!r}, channel={self.channel!r}, "
            f"group={self.group!r}, handler={self.handler.name})"
        )

    # -- lifecycle driven by the bus ----------------------------------------------------------

    async def _start(self) -> None:
        if self._started is None:
            self._started = asyncio.get_running_loop().create_future()
        adapter, intake = self._rt.adapter, self._intake
        intake.start()
        try:
            if isinstance(adapter, BatchingAdapter):
                batches = await adapter.subscribe_batches(self.spec, intake.deliver_many)
                intake.ack_many = batches.ack_many
                self._adapter_sub = batches
            else:
                self._adapter_sub = await adapter.subscribe(self.spec, intake.deliver)
        except BaseException as exc:
            if not self._started.done():
                self._started.set_exception(exc)
                self._started.exception()  # mark retrieved; the caller of _start re-raises
            raise
        if self._renew_every:
            self._renewer = asyncio.get_running_loop().create_task(self._renew_locks())
        if not self._started.done():
            self._started.set_result(None)

    async def _renew_locks(self) -> None:
        """Every third of the ack wait, extend the locks of handlers running longer than that."""
        every = self._renew_every
        while True:
            await asyncio.sleep(every)
            cutoff = time.monotonic() - every
            for delivery, started in list(self._pool.busy.items() if self._pool.busy else ()):
                if started <= cutoff:
                    try:
                        await delivery.extend()
                    except Exception:
                        log.warning("eventbus: could not extend a message lock", exc_info=True)

    # -- the pipeline -------------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        """True between :meth:`pause` and :meth:`resume`."""
        return not self._intake.running.is_set()

    def pause(self) -> None:
        """Stop taking new messages (in-flight handlers go on); the broker keeps the rest.

        The adapter's pump blocks, so a pull-based broker stops fetching; a message already
        handed over waits here and may be redelivered elsewhere if its lock expires meanwhile.
        """
        self._intake.pause()

    def resume(self) -> None:
        """Take messages again after :meth:`pause`."""
        self._intake.resume()

    def _count_dropped(self, count: int) -> None:
        """The adapter's client dropped ``count`` messages of this subscription (it logs why)."""
        self.stats.dropped += count

    async def _invoke(self, event: Event[Any], context: ConsumeContext) -> None:
        await self.handler.call(event, context)

    async def _handle(self, delivery: Delivery) -> bool:
        """Run the pipeline for one delivery; True when its ack is left to ``_flush_acks``."""
        self.stats.received += 1
        message = delivery.message
        try:
            event = self._decode(message, self._data_type)
        except Exception as exc:  # not only DecodeError: nothing may redeliver forever
            reason = "data-error" if isinstance(exc, DataDecodeError) else "decode-error"
            await self._dead_letter(delivery, reason, exc, delivery.attempt)
            return False
        if self._filter is not None and not self._filter(event.type):
            self.stats.filtered += 1
            await delivery.ack()
            return False
        if REPLY_TO in event.extensions and self._rt.replier is not None:
            await self._answer(delivery, event, self._rt.replier)
            return False
        direct = self._direct
        if direct is not None and not self._local_attempts:
            # Hot path: no middleware, no context, no attempt remembered locally.
            try:
                await direct(event)
            except Exception as exc:
                if await self._failed(delivery, event, exc, delivery.attempt):
                    await self._run(delivery, event, delivery.attempt + 1)
                return False
            self.stats.handled += 1
            intake = self._intake
            if intake.ack_many is not None:  # acked with the next flush (see _intake), inline
                acks = intake.acks
                if not acks:
                    asyncio.get_running_loop().call_soon(intake.flush)
                acks.append(delivery)
                return True
            await delivery.ack()
            return False
        await self._run(delivery, event, self._attempt_of(delivery, event))
        return False

    async def _answer(self, delivery: Delivery, event: Event[Any], replier: Replier) -> None:
        """A request: run the handler once and answer with what it returned or raised (the
        requester is waiting: no retry, no dead letter). An expired request is dropped."""
        if replier.expired(event):
            self.stats.expired += 1
        else:
            results: list[Any] = []
            try:
                if self._direct is not None:
                    results.append(await self._direct(event))
                else:

                    async def terminal(e: Event[Any], context: ConsumeContext) -> None:
                        results.append(await self.handler.call(e, context))

                    context = ConsumeContext(
                        self.channel,
                        self.group,
                        delivery.attempt,
                        self.pattern,
                        delivery.message,
                        self._rt.binding,
                    )
                    await self._rt.chain(terminal)(event, context)
            except Exception as exc:
                await replier.reply(event, None, exc)
            else:
                self.stats.handled += 1
                await replier.reply(event, results[-1] if results else None, None)
        await delivery.ack()

    async def _run(self, delivery: Delivery, event: Event[Any], attempt: int) -> None:
        """Run the handler through the middleware; retry in process where the broker cannot."""
        direct, message = self._direct, delivery.message
        while True:
            try:
                if direct is not None:
                    await direct(event)
                else:
                    context = ConsumeContext(
                        self.channel, self.group, attempt, self.pattern, message, self._rt.binding
                    )
                    await self._call(event, context)
            except Exception as exc:
                if await self._failed(delivery, event, exc, attempt):
                    attempt += 1
                    continue
                return
            self._forget(event)
            self.stats.handled += 1
            await delivery.ack()
            return

    async def _failed(
        self, delivery: Delivery, event: Event[Any], exc: Exception, attempt: int
    ) -> bool:
        """Settle a failed attempt. True means: retry now, in process (the broker cannot)."""
        if isinstance(exc, RejectedEventError):
            self._forget(event)
            if not await self._dead_letter(delivery, exc.reason, exc, attempt, event.id):
                self._remember(event, attempt)
            return False
        if self.retry.exhausted(attempt):
            self._forget(event)
            if not await self._dead_letter(delivery, "handler-error", exc, attempt, event.id):
                self._remember(event, attempt)  # the next delivery dead-letters again
            return False
        self.stats.retried += 1
        delay = self.retry.delay(attempt, self._rt.rng)
        if isinstance(exc, RetryLaterError) and exc.delay > delay:
            delay = exc.delay
        self._retry_log.log(
            logging.INFO,
            "eventbus: attempt %d of event %s on %r failed, retrying in %.3f s: %s: %s",
            attempt,
            event.id,
            self.channel,
            delay,
            type(exc).__name__,
            sanitise(str(exc)),
            exc_info=exc if log.isEnabledFor(logging.DEBUG) else None,
            extra=self._fields(event.id, attempt, "retry"),
        )
        if self._plan.broker_redelivers:
            self._remember(event, attempt)
            if self._plan.broker_delays:
                await delivery.nack(delay)
            else:
                await asyncio.sleep(delay)
                await delivery.nack(None)
            return False
        await asyncio.sleep(delay)
        return True

    # Attempt counting where the broker does not count deliveries itself.
    def _attempt_of(self, delivery: Delivery, event: Event[Any]) -> int:
        if self._plan.broker_counts or not self._local_attempts:
            return delivery.attempt
        return max(delivery.attempt, self._local_attempts.get((event.source, event.id), 0) + 1)

    def _remember(self, event: Event[Any], attempt: int) -> None:
        if self._plan.broker_counts:
            return
        key = (event.source, event.id)
        self._local_attempts[key] = attempt
        self._local_attempts.move_to_end(key)
        if len(self._local_attempts) > 10_000:
            self._local_attempts.popitem(last=False)

    def _forget(self, event: Event[Any]) -> None:
        if self._local_attempts:
            self._local_attempts.pop((event.source, event.id), None)

    def _fields(self, event_id: str | None, attempt: int, outcome: str) -> dict[str, object]:
        return log_fields(self.channel, self.group, event_id, attempt, outcome)

    async def _dead_letter(
        self,
        delivery: Delivery,
        reason: str,
        exc: BaseException,
        attempt: int,
        event_id: str | None = None,
    ) -> bool:
        """Dead-letter ``delivery`` (see ``DeadLetterer``); False when it went back (nacked)."""
        done = await self._dead_letterer.settle(delivery, reason, exc, attempt, event_id)
        if done is True:
            self.stats.dead_lettered += 1
        return done is not False
