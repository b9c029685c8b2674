"""Tracing, metrics and structured logs: OpenTelemetry SDK in-memory exporters, a Prometheus
scrape on loopback, JSON log lines; and the core without any of the optional packages."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import subprocess
import sys
import urllib.request
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from eventbus import (
    Event,
    EventBus,
    JsonFormatter,
    LoggingMiddleware,
    MetricsMiddleware,
    RetryPolicy,
    TracingMiddleware,
    inject_trace_context,
    start_prometheus_exporter,
)
from eventbus.testing import wait_until

FAST = RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.01, jitter=0)


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


async def test_trace_context_crosses_the_broker_in_the_event(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    tracing = TracingMiddleware(tracer_provider=provider, system="memory")
    received: list[Event[Any]] = []

    async def handle(event: Event[Any]) -> None:
        received.append(event)
        if event.data == "fail":
            raise RuntimeError("boom")

    async with EventBus(middleware=[tracing], retry=FAST) as bus:
        sub = await bus.subscribe("trace.job", handle, group="workers")
        tracer = provider.get_tracer("test")
        with tracer.start_as_current_span("http request") as request_span:
            await bus.publish(Event(type="trace.job", source="/t", id="e-1", data="ok"))
        await bus.publish(Event(type="trace.job", source="/t", id="e-2", data="fail"))
        await wait_until(lambda: sub.stats.dead_lettered == 1 and sub.stats.handled == 1)

    finished = exporter.get_finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in finished:
        by_name.setdefault(span.name, []).append(span)
    send = next(
        s for s in by_name["publish trace.job"] if s.attributes["messaging.message.id"] == "e-1"
    )
    process = next(
        s for s in by_name["process trace.job"] if s.attributes["cloudevents.event_id"] == "e-1"
    )
    # publish is a child of the request; process is a child of publish (and links to it).
    assert send.parent.span_id == request_span.get_span_context().span_id
    assert process.context.trace_id == request_span.get_span_context().trace_id
    assert process.parent.span_id == send.context.span_id
    assert process.links[0].context.span_id == send.context.span_id
    assert send.kind is trace.SpanKind.PRODUCER and process.kind is trace.SpanKind.CONSUMER
    assert send.attributes["messaging.operation.type"] == "send"
    assert process.attributes["messaging.operation.type"] == "process"
    for span in (send, process):
        assert span.attributes["messaging.system"] == "memory"
        assert span.attributes["messaging.destination.name"] == "trace.job"
        assert span.attributes["cloudevents.event_type"] == "trace.job"
    assert process.attributes["messaging.consumer.group.name"] == "workers"
    # The extension attributes travelled in the event (W3C traceparent).
    assert received[0].extensions["traceparent"].split("-")[1] == format(
        request_span.get_span_context().trace_id, "032x"
    )
    failed = [
        s for s in by_name["process trace.job"] if s.attributes["cloudevents.event_id"] == "e-2"
    ]
    assert len(failed) == 2  # two attempts, each an errored span
    assert all(s.status.status_code is trace.StatusCode.ERROR for s in failed)
    assert failed[0].attributes["error.type"] == "RuntimeError"
    assert failed[0].attributes["eventbus.attempt"] == 1


def test_inject_trace_context_for_outbox_events(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, _ = spans
    event = Event(type="t", source="/s")
    assert inject_trace_context(event) is event  # no active span: unchanged
    with provider.get_tracer("t").start_as_current_span("request") as span:
        stamped = inject_trace_context(event)
    assert stamped.id == event.id
    assert format(span.get_span_context().span_id, "016x") in stamped.extensions["traceparent"]


def _points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


async def test_metrics_count_publish_consume_retry_dead_letter_and_time_handlers() -> None:
    reader = InMemoryMetricReader()
    metrics = MetricsMiddleware(meter_provider=MeterProvider(metric_readers=[reader]))

    async def handle(event: Event[Any]) -> None:
        if event.data < 0:
            raise ValueError("negative")

    async with EventBus(middleware=[metrics], retry=FAST) as bus:
        sub = await bus.subscribe("m.job", handle, group="g")
        await bus.publish_many(Event(type="m.job", source="/t", data=i) for i in (1, 2, 3, -1))
        await wait_until(lambda: sub.stats.handled == 3 and sub.stats.dead_lettered == 1)
        points = _points(reader)

    def total(name: str, **attrs: str) -> float:
        return sum(
            p.value for p in points[name] if all(p.attributes.get(k) == v for k, v in attrs.items())
        )

    assert total("eventbus.published", **{"messaging.destination.name": "m.job"}) == 4
    assert total("eventbus.consumed", **{"eventbus.outcome": "success"}) == 3
    assert total("eventbus.consumed", **{"eventbus.outcome": "error"}) == 2  # two attempts
    assert total("eventbus.retried", **{"messaging.consumer.group.name": "g"}) == 1
    assert total("eventbus.dead_lettered") == 1
    assert total("eventbus.in_flight") == 0
    histogram = points["eventbus.handler.duration"]
    assert sum(p.count for p in histogram) == 5
    assert all(p.sum >= 0 for p in histogram)


async def test_prometheus_endpoint_serves_the_metrics() -> None:
    exporter = start_prometheus_exporter(port=0)
    try:
        metrics = MetricsMiddleware(meter_provider=exporter.meter_provider, system="memory")
        async with EventBus(middleware=[metrics]) as bus:
            await bus.publish(Event(type="prom.job", source="/t"))
        url = f"http://127.0.0.1:{exporter.port}/metrics"

        def scrape() -> str:
            with urllib.request.urlopen(url, timeout=5) as response:
                return str(response.read().decode())

        text = await asyncio.to_thread(scrape)
    finally:
        exporter.shutdown()
    line = next(x for x in text.splitlines() if x.startswith("eventbus_published"))
    assert 'messaging_destination_name="prom.job"' in line and line.endswith(" 1.0")


async def test_logs_carry_event_ids_as_json() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.eventbus.events")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        logging_mw = LoggingMiddleware(logger=logger)

        async def handle(event: Event[Any]) -> None:
            if event.id == "bad":
                raise KeyError("sku-9")

        async with EventBus(middleware=[logging_mw], retry=RetryPolicy.never()) as bus:
            sub = await bus.subscribe("log.job", handle, group="g")
            await bus.publish(Event(type="log.job", source="/t", id="good"))
            await bus.publish(Event(type="log.job", source="/t", id="bad"))
            await wait_until(lambda: sub.stats.received == 2)
    finally:
        logger.removeHandler(handler)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    handled = next(r for r in records if r["message"] == "handled good")
    assert handled["event_id"] == "good" and handled["event_type"] == "log.job"
    assert handled["channel"] == "log.job" and handled["group"] == "g"
    assert handled["attempt"] == 1 and handled["duration_ms"] >= 0
    failed = next(r for r in records if r["message"].startswith("handler failed on bad"))
    assert failed["level"] == "WARNING" and failed["event_id"] == "bad"
    assert failed["error"] == "KeyError: 'sku-9'"
    assert {r["event_id"] for r in records if r["message"].startswith("published")} == {
        "good",
        "bad",
    }


def test_core_works_without_the_optional_packages() -> None:
    code = """
import sys
for name in ("opentelemetry", "redis", "psycopg", "prometheus_client"):
    sys.modules[name] = None  # as if not installed
import asyncio, eventbus
from eventbus import Event, EventBus
got = []
async def main():
    async with EventBus() as bus:
        await bus.subscribe("x.y", lambda e: got.append(e.id))
        await bus.publish(Event(type="x.y", source="/s", id="1"))
        while not got:
            await asyncio.sleep(0.01)
asyncio.run(main())
for make in (eventbus.TracingMiddleware, eventbus.MetricsMiddleware,
             lambda: eventbus.RedisIdempotencyStore("redis://h"),
             lambda: eventbus.PostgresIdempotencyStore("postgresql://h/db")):
    try:
        make()
    except eventbus.ConfigurationError as exc:
        print(exc)
print("ok", got)
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "ok ['1']"
    assert 'pip install "eventbus[otel]"' in lines[0] and 'pip install "eventbus[otel]"' in lines[1]
    assert 'pip install "eventbus[redis]"' in lines[2]
    assert 'pip install "eventbus[postgres]"' in lines[3]
