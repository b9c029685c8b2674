"""Core NATS (``mode=core``) beyond the conformance suite: what a slow subscriber loses is seen."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from eventbus_nats import NatsConfig, parse_nats_url
from nats.aio.subscription import DEFAULT_SUB_PENDING_MSGS_LIMIT
from nats_launcher import NatsServer
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from eventbus import Event, EventBus, MetricsMiddleware
from eventbus.testing import run, wait_until


def test_the_pending_limit_is_at_least_the_clients_own() -> None:
    assert NatsConfig().core_pending_limit >= DEFAULT_SUB_PENDING_MSGS_LIMIT
    assert parse_nats_url("nats://?mode=core").core_pending_limit >= DEFAULT_SUB_PENDING_MSGS_LIMIT
    assert parse_nats_url("nats://?mode=core&core_pending_limit=10").core_pending_limit == 10


def _dropped_points(reader: InMemoryMetricReader) -> int:
    total = 0
    data = reader.get_metrics_data()
    for resource in data.resource_metrics if data is not None else ():
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "eventbus.dropped":
                    total += sum(point.value for point in metric.data.data_points)
    return total


def test_a_slow_core_subscriber_counts_and_logs_what_it_drops(
    nats_server: NatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A handler that cannot keep up, a small explicit pending limit: nats-py drops messages.
    Each one shows in the subscription's stats and the metrics, and the log says so at ERROR."""
    caplog.set_level(logging.INFO, logger="eventbus.nats")
    reader = InMemoryMetricReader()
    metrics = MetricsMiddleware(meter_provider=MeterProvider(metric_readers=[reader]))

    async def scenario() -> None:
        release = asyncio.Event()
        handled: list[int] = []
        url = nats_server.url("mode=core&core_pending_limit=10")
        async with EventBus(url, middleware=[metrics]) as bus:

            async def slow(event: Event[Any]) -> None:
                await release.wait()
                handled.append(event.data)

            sub = await bus.subscribe("core.slow.ping", slow, max_in_flight=1)
            await bus.publish_many(
                Event(type="core.slow.ping", source="/t", data=i) for i in range(300)
            )
            await wait_until(lambda: sub.stats.dropped > 0, timeout=15, what="a drop")
            assert _dropped_points(reader) == sub.stats.dropped
            release.set()
            # Every message was either handled or dropped, and counted: nothing else is lost.
            await wait_until(lambda: len(handled) + sub.stats.dropped == 300, what="all 300")
        assert sub.stats.dropped > 100 and sub.stats.received == len(handled)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert any("dropped on 'core.slow.ping'" in r.getMessage() for r in errors), errors
        assert sum(_count(r.getMessage()) for r in errors) == sub.stats.dropped

    run(scenario(), timeout=60)


def _count(line: str) -> int:
    """The number of drops an error line reports ("N message(s) dropped on ...")."""
    head = line.removeprefix("nats: ").split(" ", 1)[0]
    return int(head) if head.isdigit() else 0
