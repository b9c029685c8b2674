"""OpenTelemetry tracing through the CloudEvents distributed-tracing extension.

``TracingMiddleware`` starts a PRODUCER span per published event and writes its context into the
event's ``traceparent`` / ``tracestate`` extension attributes (W3C Trace Context), so the trace
crosses any broker with the event. On consume it reads them back and runs the handler in a
CONSUMER span whose parent (and link) is the producer's span. Attributes follow the OpenTelemetry
messaging semantic conventions (``messaging.*``) and the CloudEvents ones (``cloudevents.*``).

OpenTelemetry is an optional install (``pip install "eventbus[otel]"``): it is imported when a
middleware is created, never by ``import eventbus``.
"""

from __future__ import annotations

from typing import Any

from eventbus._bus._middleware import ConsumeContext, ConsumeNext, Middleware, PublishNext
from eventbus._bus._router import Router
from eventbus._store._dbutil import require
from eventbus._wire._event import Event

__all__ = ["TracingMiddleware", "inject_trace_context"]

TRACE_ATTRIBUTES = ("traceparent", "tracestate")


def _propagator() -> Any:
    module = require("opentelemetry.trace.propagation.tracecontext", "otel")
    return module.TraceContextTextMapPropagator()


def _event_attributes(event: Event[Any]) -> dict[str, str]:
    attributes = {
        "messaging.message.id": event.id,
        "cloudevents.event_id": event.id,
        "cloudevents.event_source": event.source,
        "cloudevents.event_type": event.type,
        "cloudevents.event_spec_version": event.specversion,
    }
    if event.subject is not None:
        attributes["cloudevents.event_subject"] = event.subject
    return attributes


def inject_trace_context(event: Event[Any], context: Any = None) -> Event[Any]:
    """``event`` with the current (or given) trace context as ``traceparent``/``tracestate``.

    For events that do not go through a bus's publish, e.g. written to a transactional outbox
    inside a traced request: the consumer's span then joins the request's trace.
    """
    carrier: dict[str, str] = {}
    _propagator().inject(carrier, context=context)
    if "traceparent" not in carrier:
        return event
    return event.with_extensions(
        traceparent=carrier["traceparent"], tracestate=carrier.get("tracestate")
    )


class TracingMiddleware(Middleware):
    """Spans for publish and process: ``EventBus(url, middleware=[TracingMiddleware()])``.

    ``tracer_provider``: default the global one. ``system``: the ``messaging.system`` attribute
    (``nats``, ``gcp_pubsub``, ``servicebus``...; default ``eventbus``). ``router``: the bus's
    router, so publish spans name the channel (default: the event type, as the default router).
    """

    def __init__(
        self,
        *,
        tracer_provider: Any = None,
        system: str = "eventbus",
        router: Router | None = None,
    ) -> None:
        trace = require("opentelemetry.trace", "otel")
        from eventbus import __version__

        self._trace = trace
        self._tracer = trace.get_tracer("eventbus", __version__, tracer_provider=tracer_provider)
        self._propagator = _propagator()
        self._system = system
        self._router = router or Router()

    async def on_publish(self, event: Event[Any], call_next: PublishNext) -> None:
        destination = self._router.channel_for(event.type)
        attributes = _event_attributes(event)
        attributes.update(
            {
                "messaging.system": self._system,
                "messaging.destination.name": destination,
                "messaging.operation.type": "send",
                "messaging.operation.name": "publish",
            }
        )
        with self._tracer.start_as_current_span(
            f"publish {destination}", kind=self._trace.SpanKind.PRODUCER, attributes=attributes
        ):
            carrier: dict[str, str] = {}
            self._propagator.inject(carrier)
            if "traceparent" in carrier:
                event = event.with_extensions(
                    traceparent=carrier["traceparent"], tracestate=carrier.get("tracestate")
                )
            await call_next(event)

    async def on_consume(
        self, event: Event[Any], context: ConsumeContext, call_next: ConsumeNext
    ) -> None:
        carrier = {
            name: str(value)
            for name in TRACE_ATTRIBUTES
            if (value := event.extensions.get(name)) is not None
        }
        parent = self._propagator.extract(carrier) if carrier else None
        links = []
        if parent is not None:
            span_context = self._trace.get_current_span(parent).get_span_context()
            if span_context.is_valid:
                links.append(self._trace.Link(span_context))
        attributes: dict[str, Any] = _event_attributes(event)
        attributes.update(
            {
                "messaging.system": self._system,
                "messaging.destination.name": context.channel,
                "messaging.operation.type": "process",
                "messaging.operation.name": "process",
                "eventbus.attempt": context.attempt,
            }
        )
        if context.group is not None:
            attributes["messaging.consumer.group.name"] = context.group
        with self._tracer.start_as_current_span(
            f"process {context.channel}",
            context=parent,
            kind=self._trace.SpanKind.CONSUMER,
            attributes=attributes,
            links=links,
        ) as span:
            try:
                await call_next(event, context)
            except Exception as exc:
                span.set_attribute("error.type", type(exc).__qualname__)
                raise
