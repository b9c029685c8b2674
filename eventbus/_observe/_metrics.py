"""OpenTelemetry metrics for publish and consume, with an optional Prometheus endpoint.

Instruments (attributes: ``messaging.system``, ``messaging.destination.name``,
``messaging.consumer.group.name`` where there is a group, ``cloudevents.event_type`` on events):

- ``eventbus.published`` (counter): events published;
- ``eventbus.consumed`` (counter): handler runs, with ``eventbus.outcome`` = ``success``/``error``;
- ``eventbus.handler.duration`` (histogram, seconds): handler latency;
- ``eventbus.in_flight`` (up-down counter): handlers running now;
- ``eventbus.retried``, ``eventbus.dead_lettered`` (observable counters): read from each
  subscription's stats, so dead letters that never reach a handler (undecodable messages)
  count too;
- ``eventbus.dropped`` (observable counter): messages the broker client dropped before the
  subscription took them (core NATS with a full pending buffer), from the stats too.

``pip install "eventbus[otel]"`` (and ``"eventbus[prometheus]"`` for the exporter).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware, PublishNext
from eventbus._bus._router import Router
from eventbus._store._dbutil import require
from eventbus._wire._event import Event

if TYPE_CHECKING:
    from eventbus._bus._consumer import Subscription

__all__ = [
    "MetricsMiddleware",
    "PrometheusExporter",
    "prometheus_meter_provider",
    "prometheus_text",
    "start_prometheus_exporter",
]


class MetricsMiddleware(Middleware):
    """Count and time events: ``EventBus(url, middleware=[MetricsMiddleware()])``.

    ``meter_provider``: default the global one. ``system`` and ``router`` as for
    :class:`~eventbus.TracingMiddleware`.
    """

    def __init__(
        self,
        *,
        meter_provider: Any = None,
        system: str = "eventbus",
        router: Router | None = None,
    ) -> None:
        metrics = require("opentelemetry.metrics", "otel")
        from eventbus import __version__

        meter = metrics.get_meter("eventbus", __version__, meter_provider=meter_provider)
        self._system = system
        self._router = router or Router()
        self._subscriptions: list[Subscription] = []
        self._published = meter.create_counter(
            "eventbus.published", unit="{event}", description="Events published"
        )
        self._consumed = meter.create_counter(
            "eventbus.consumed", unit="{event}", description="Handler runs, by outcome"
        )
        self._duration = meter.create_histogram(
            "eventbus.handler.duration", unit="s", description="Handler latency"
        )
        self._in_flight = meter.create_up_down_counter(
            "eventbus.in_flight", unit="{event}", description="Handlers running now"
        )
        observation = metrics.Observation

        def observe(field: str) -> Any:
            def callback(options: Any) -> Iterable[Any]:
                for sub in self._subscriptions:
                    yield observation(getattr(sub.stats, field), self._sub_attributes(sub))

            return callback

        meter.create_observable_counter(
            "eventbus.retried",
            callbacks=[observe("retried")],
            unit="{event}",
            description="Failed attempts that were retried",
        )
        meter.create_observable_counter(
            "eventbus.dropped",
            callbacks=[observe("dropped")],
            unit="{event}",
            description="Events the broker client dropped before delivery (at-most-once)",
        )
        meter.create_observable_counter(
            "eventbus.dead_lettered",
            callbacks=[observe("dead_lettered")],
            unit="{event}",
            description="Events moved to the dead-letter channel",
        )

    def _sub_attributes(self, sub: Subscription) -> dict[str, str]:
        attributes = {"messaging.system": self._system, "messaging.destination.name": sub.channel}
        if sub.group is not None:
            attributes["messaging.consumer.group.name"] = sub.group
        return attributes

    def on_subscribe(self, subscription: Subscription) -> None:
        self._subscriptions.append(subscription)

    async def on_publish(self, event: Event[Any], call_next: PublishNext) -> None:
        await call_next(event)
        self._published.add(
            1,
            {
                "messaging.system": self._system,
                "messaging.destination.name": self._router.channel_for(event.type),
                "cloudevents.event_type": event.type,
            },
        )

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        attributes = {
            "messaging.system": self._system,
            "messaging.destination.name": context.channel,
            "cloudevents.event_type": event.type,
        }
        if context.group is not None:
            attributes["messaging.consumer.group.name"] = context.group
        self._in_flight.add(1, attributes)
        start = time.perf_counter()
        outcome = "error"
        try:
            await call_next(event, context)
            outcome = "success"
        finally:
            elapsed = time.perf_counter() - start
            self._in_flight.add(-1, attributes)
            attributes["eventbus.outcome"] = outcome
            self._duration.record(elapsed, attributes)
            self._consumed.add(1, attributes)


@dataclass
class PrometheusExporter:
    """A running ``/metrics`` endpoint; pass ``meter_provider`` to :class:`MetricsMiddleware`."""

    meter_provider: Any
    port: int
    _server: Any

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self.meter_provider.shutdown()


def start_prometheus_exporter(port: int = 9464, addr: str = "127.0.0.1") -> PrometheusExporter:
    """Serve OpenTelemetry metrics for Prometheus to scrape at ``http://addr:port/metrics``."""
    exporter = require("opentelemetry.exporter.prometheus", "prometheus")
    sdk_metrics = require("opentelemetry.sdk.metrics", "otel")
    client = require("prometheus_client", "prometheus")
    reader = exporter.PrometheusMetricReader()
    provider = sdk_metrics.MeterProvider(metric_readers=[reader])
    server, _thread = client.start_http_server(port, addr=addr)
    return PrometheusExporter(provider, server.server_port, server)


def prometheus_meter_provider() -> Any:
    """A meter provider whose metrics Prometheus reads from the process's default registry:
    ``MetricsMiddleware(meter_provider=prometheus_meter_provider())`` makes them appear on
    ``eventbus run --health-port``'s ``/metrics`` (no server of its own is started)."""
    exporter = require("opentelemetry.exporter.prometheus", "prometheus")
    sdk_metrics = require("opentelemetry.sdk.metrics", "otel")
    return sdk_metrics.MeterProvider(metric_readers=[exporter.PrometheusMetricReader()])


def prometheus_text() -> bytes:
    """The Prometheus text exposition of the process's default registry."""
    client = require("prometheus_client", "prometheus")
    text: bytes = client.generate_latest(client.REGISTRY)
    return text
