"""``eventbus run`` against a real nats-server: a consumer service written as the docs teach
(tests/runtime/orders_service.py) reports ready over HTTP, handles events published from
another process, and on SIGTERM drains and exits 0, also with ``--workers 2``."""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from nats_launcher import NatsServer

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "runtime"))
from service_harness import Service, free_port, http_get

from eventbus import Event, EventBus


@pytest.fixture
def start_service(tmp_path: Path) -> Iterator[Callable[..., Service]]:
    started: list[Service] = []

    def start(target: str, *args: str, **env: Any) -> Service:
        workdir = tmp_path / f"service-{len(started)}"
        workdir.mkdir()
        service = Service(workdir, target, args, **env)
        started.append(service)
        return service

    try:
        yield start
    finally:
        for service in started:
            service.stop()


async def publish(url: str, *datas: dict[str, Any]) -> None:
    async with EventBus(url) as bus:
        for i, data in enumerate(datas):
            await bus.publish(Event(type="orders.created", source="/test", id=f"o{i}", data=data))


async def test_a_service_on_nats_is_ready_handles_events_and_drains_on_sigterm(
    start_server: Callable[..., NatsServer], start_service: Callable[..., Service]
) -> None:
    server = start_server()
    port = free_port()
    service = start_service(
        "orders_service:create_bus", "--url", server.url(), "--health-port", str(port)
    )
    service.wait_status(port, "/readyz", 200)
    await publish(server.url(), {}, {"hold": True})
    service.wait_lines("billed o0")
    service.wait_lines("handling o1")

    service.process.send_signal(signal.SIGTERM)
    service.wait_status(port, "/readyz", 503)
    assert http_get(port, "/healthz")[0] == 200
    service.process.send_signal(signal.SIGUSR1)  # let the in-flight handler finish
    assert service.process.wait(timeout=60) == 0, service.log_text()
    lines = [line.split(" pid=")[0] for line in service.lines()]
    assert lines[-2:] == ["billed o1", "shutdown"]
    assert lines.count("billed o1") == 1  # settled before closing: not redelivered


async def test_a_drain_timeout_on_nats_exits_1_and_the_event_is_redelivered(
    start_server: Callable[..., NatsServer], start_service: Callable[..., Service]
) -> None:
    server = start_server()
    port = free_port()
    first = start_service(
        "orders_service:create_bus",
        "--url",
        server.url(),
        "--health-port",
        str(port),
        DRAIN_TIMEOUT="0.5",
    )
    first.wait_status(port, "/readyz", 200)  # listening: the stream exists before we publish
    await publish(server.url(), {"stuck": True, "once": True})
    first.wait_lines("handling o0")
    assert first.terminate() == 1
    assert "'orders.created' (channel 'orders.created', group 'billing'): 1 running" in (
        first.log_text()
    )
    # the unsettled event goes back to the broker: the next instance of the group gets it
    second = start_service("orders_service:create_bus", "--url", server.url())
    second.wait_lines("handling o0")
    assert second.terminate(signal.SIGKILL) != 0


async def test_workers_share_the_group_and_each_drains_on_sigterm(
    start_server: Callable[..., NatsServer], start_service: Callable[..., Service]
) -> None:
    server = start_server()
    port = free_port()
    service = start_service(
        "orders_service:create_bus",
        "--url",
        server.url(),
        "--workers",
        "2",
        "--health-port",
        str(port),
    )
    starts = service.wait_lines("startup", 2)
    assert len({line.split("pid=")[1] for line in starts}) == 2
    service.wait_status(port, "/readyz", 200)
    await publish(server.url(), *({} for _ in range(20)))
    billed = service.wait_lines("billed", 20)
    assert sorted(line.split()[1] for line in billed) == sorted(f"o{i}" for i in range(20))
    assert service.terminate() == 0, service.log_text()
    assert len(service.wait_lines("shutdown", 2)) == 2
