"""``WebhookDelivery``: every enabled endpoint's deliveries, run as consumers of a bus.

Each endpoint has its own subscriptions, in its own consumer group ``webhook_<id>``: one per
event type or pattern it receives, plus one on its own channel (tests and replays). So each
endpoint has its own broker-side delivery state: what is pending for it survives restarts (the
broker holds it), several delivery processes share the work, and a slow or failing endpoint
holds only its own consumers. A failed attempt is retried by the broker's delayed redelivery on
the endpoint's schedule (``ScheduleRetry``; ``Retry-After`` wins when longer); when the schedule
is exhausted the event goes to the endpoint's dead-letter channel, annotated with the last
error (status and the start of the answer) and the attempt count. Each endpoint has a
:class:`~eventbus.CircuitBreaker`: after ``breaker_threshold`` failures in a row its
subscriptions pause (the broker keeps the events), and after the cool-down one probe goes
through. ``410 Gone`` disables the endpoint in the store, dead-letters the event
(``deadletterreason=endpoint-gone``) and publishes ``eventbus.webhooks.endpoint.disabled``.
The endpoint list is read again every ``refresh`` seconds (and by :meth:`refresh`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from eventbus._bus._consumer import Subscription
from eventbus._bus._eventbus import EventBus
from eventbus._errors import ConfigurationError, RejectedEventError
from eventbus._redact import redact_url
from eventbus._reliability._breaker import CircuitBreaker
from eventbus._webhooks._model import Endpoint
from eventbus._webhooks._sinks import DeliveryFailedError, EndpointGoneError, HttpSink, Sink
from eventbus._webhooks._ssrf import DestinationGuard
from eventbus._webhooks._store import EndpointStore
from eventbus._wire._event import Event

__all__ = ["DISABLED_TYPE", "WebhookDelivery"]

log = logging.getLogger("eventbus.webhooks")

#: The type of the event published when an endpoint is disabled by a ``410 Gone``.
DISABLED_TYPE = "eventbus.webhooks.endpoint.disabled"


class _Pacer:
    """At most ``per_minute`` sends per minute, evenly spaced (waits in the handler)."""

    def __init__(self, per_minute: int | None) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        if not self.interval:
            return
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


@dataclass
class _Runner:
    endpoint: Endpoint
    breaker: CircuitBreaker
    pacer: _Pacer
    subscriptions: list[Subscription] = field(default_factory=list)


def _shape(e: Endpoint) -> tuple[Any, ...]:
    """What the consumers are built from: a change restarts them."""
    return (e.event_types, e.schedule, e.timeout, e.rate_limit)


def _is_failure(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryFailedError) and not isinstance(exc, EndpointGoneError)


class WebhookDelivery:
    """Delivers events from ``bus`` to the endpoints in ``store`` (see the module docstring).

    ``sinks``: the sinks to use, first that accepts an endpoint wins (default: an
    :class:`HttpSink` with ``guard``). ``allow``: networks the SSRF guard lets through (CIDR
    strings) when no ``guard`` is given. ``max_in_flight``: concurrent deliveries per endpoint.
    ``ack_wait``: how long the broker waits for a taken delivery before giving it to another
    consumer (a crashed process's deliveries come back after it); at least the endpoint's
    timeout + 5 s.
    """

    def __init__(
        self,
        bus: EventBus,
        store: EndpointStore,
        *,
        sinks: Sequence[Sink] | None = None,
        guard: DestinationGuard | None = None,
        allow: Sequence[str] = (),
        refresh: float = 5.0,
        max_in_flight: int = 8,
        breaker_threshold: int = 5,
        breaker_cool_down: float = 30.0,
        breaker_max_cool_down: float = 600.0,
        ack_wait: float = 30.0,
        source: str = "eventbus/webhooks",
    ) -> None:
        if refresh <= 0 or max_in_flight < 1 or ack_wait <= 0:
            raise ConfigurationError("refresh and ack_wait must be > 0, max_in_flight >= 1")
        self._ack_wait = ack_wait
        self.bus = bus
        self.store = store
        self.guard = guard or DestinationGuard(allow)
        self._own_sinks = sinks is None
        self.sinks: tuple[Sink, ...] = (
            tuple(sinks) if sinks is not None else (HttpSink(self.guard),)
        )
        self._refresh_every = refresh
        self._max_in_flight = max_in_flight
        self._breaker = (breaker_threshold, breaker_cool_down, breaker_max_cool_down)
        self._source = source
        self._runners: dict[str, _Runner] = {}
        self._task: asyncio.Task[None] | None = None
        self._closing: set[asyncio.Task[Any]] = set()
        self._lock = asyncio.Lock()
        self.delivered = 0
        self.failed = 0

    def __repr__(self) -> str:
        return f"WebhookDelivery({self.store!r}, endpoints={sorted(self._runners)!r})"

    async def __aenter__(self) -> WebhookDelivery:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def breaker(self, endpoint_id: str) -> CircuitBreaker:
        return self._runners[endpoint_id].breaker

    @property
    def endpoints(self) -> list[str]:
        return sorted(self._runners)

    async def start(self) -> None:
        """Create the table if missing, start every enabled endpoint's consumers (waiting until
        they listen) and the refresh loop."""
        await self.store.ensure_schema()
        await self.refresh()
        self._task = asyncio.get_running_loop().create_task(self._refresh_loop())

    async def stop(self, timeout: float | None = None) -> None:
        """Stop every consumer, waiting up to ``timeout`` seconds (default: the endpoint's
        request timeout + 5 s) for deliveries in flight; unfinished ones go back to the broker."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for endpoint_id in list(self._runners):
            await self._stop_endpoint(endpoint_id, timeout)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self._own_sinks:
            for sink in self.sinks:
                await sink.close()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_every)
            try:
                await self.refresh()
            except Exception:
                log.exception("eventbus webhooks: reading the endpoints failed")

    async def refresh(self) -> None:
        """Bring the running consumers in line with the store."""
        async with self._lock:
            wanted = {e.id: e for e in await self.store.list() if e.enabled}
            for endpoint_id in [i for i in self._runners if i not in wanted]:
                await self._stop_endpoint(endpoint_id)
            for endpoint_id, endpoint in wanted.items():
                runner = self._runners.get(endpoint_id)
                if runner is not None and _shape(runner.endpoint) == _shape(endpoint):
                    runner.endpoint = endpoint  # url, secrets, mode: used from the next send
                    continue
                if runner is not None:
                    await self._stop_endpoint(endpoint_id)
                await self._start_endpoint(endpoint)

    def _sink_for(self, endpoint: Endpoint) -> Sink:
        for sink in self.sinks:
            if sink.accepts(endpoint):
                return sink
        raise ConfigurationError(f"no sink delivers to {redact_url(endpoint.url)!r}")

    async def _start_endpoint(self, endpoint: Endpoint) -> None:
        threshold, cool_down, max_cool_down = self._breaker
        breaker = CircuitBreaker(
            failure_threshold=threshold,
            cool_down=cool_down,
            max_cool_down=max(cool_down, max_cool_down),
            is_failure=_is_failure,
            name=f"webhook endpoint {endpoint.id}",
        )
        runner = _Runner(endpoint, breaker, _Pacer(endpoint.rate_limit))
        self._runners[endpoint.id] = runner

        async def deliver(event: Event[Any]) -> None:
            await self._deliver(runner, event)

        options: dict[str, Any] = {
            "group": f"webhook_{endpoint.id}",
            "retry": endpoint.retry,
            "dead_letter_channel": endpoint.dead_letter_channel,
            "middleware": [breaker],
            "max_in_flight": self._max_in_flight,
            "ack_wait": max(self._ack_wait, endpoint.timeout + 5),
        }
        subs = [self.bus.subscribe(t, deliver, **options) for t in endpoint.event_types]
        subs.append(self.bus.subscribe(">", deliver, channel=endpoint.channel, **options))
        runner.subscriptions = subs
        for sub in subs:
            await sub

    async def _stop_endpoint(self, endpoint_id: str, timeout: float | None = None) -> None:
        runner = self._runners.pop(endpoint_id, None)
        if runner is not None:
            wait = runner.endpoint.timeout + 5 if timeout is None else timeout
            await asyncio.gather(*(sub.close(timeout=wait) for sub in runner.subscriptions))

    async def _deliver(self, runner: _Runner, event: Event[Any]) -> None:
        endpoint = runner.endpoint
        await runner.pacer.wait()
        try:
            await self._sink_for(endpoint).send(endpoint, event)
        except EndpointGoneError as exc:
            await self._gone(runner, str(exc))
            raise RejectedEventError(str(exc), reason="endpoint-gone") from None
        except DeliveryFailedError:
            self.failed += 1
            raise
        self.delivered += 1

    async def _gone(self, runner: _Runner, reason: str) -> None:
        endpoint = runner.endpoint
        if self._runners.get(endpoint.id) is not runner:
            return  # already stopped (another delivery saw the 410 first)
        for sub in runner.subscriptions:
            sub.pause()
        try:
            current = await self.store.get(endpoint.id)
            if current.enabled:
                await self.store.update(
                    current.with_changes(enabled=False, disabled_reason="410 Gone")
                )
                await self.bus.publish(
                    Event(
                        type=DISABLED_TYPE,
                        source=self._source,
                        subject=endpoint.id,
                        data={
                            "endpoint": endpoint.id,
                            "url": redact_url(endpoint.url),
                            "reason": "410 Gone",
                        },
                    )
                )
        finally:
            log.warning(
                "eventbus webhooks: endpoint %s (%s) disabled: %s",
                endpoint.id,
                redact_url(endpoint.url),
                reason,
            )
            task = asyncio.get_running_loop().create_task(self._stop_later(endpoint.id))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    async def _stop_later(self, endpoint_id: str) -> None:
        await asyncio.sleep(0)  # let the handler that saw the 410 settle its event first
        async with self._lock:
            await self._stop_endpoint(endpoint_id)
