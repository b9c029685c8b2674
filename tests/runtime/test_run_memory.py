"""``eventbus run`` as a subprocess on memory://: ready over HTTP, handles events, drains on
SIGTERM and exits 0; a drain that times out exits 1 naming what was left."""

from __future__ import annotations

import re
import signal
from collections.abc import Callable
from pathlib import Path

from service_harness import Service, free_port, http_get


def test_serves_reports_ready_handles_and_drains_on_sigterm(
    start_service: Callable[..., Service],
) -> None:
    port = free_port()
    service = start_service(
        "orders_service:create_bus",
        "--url",
        "memory://",
        "--health-port",
        str(port),
        FEED="a,hold",
    )
    service.wait_status(port, "/readyz", 200)
    assert http_get(port, "/healthz")[:1] == (200,)
    service.wait_lines("billed o0")
    service.wait_lines("handling o1")  # held in flight until SIGUSR1

    service.process.send_signal(signal.SIGTERM)
    # draining: still alive, no longer ready
    service.wait_status(port, "/readyz", 503)
    assert http_get(port, "/readyz")[2].strip() == "draining"
    assert http_get(port, "/healthz")[0] == 200
    assert not any(line.startswith("billed o1") for line in service.lines())
    service.process.send_signal(signal.SIGUSR1)
    assert service.process.wait(timeout=60) == 0, service.log_text()

    lines = [line.split(" pid=")[0] for line in service.lines()]
    assert lines[0] == "startup"
    assert lines[-2:] == ["billed o1", "shutdown"]  # drained, then the shutdown hook
    assert "drained and closed" in service.log_text()


def test_a_drain_that_times_out_exits_1_and_names_what_was_left(
    start_service: Callable[..., Service],
) -> None:
    service = start_service(
        "orders_service:create_bus",
        "--url",
        "memory://",
        "--log-format",
        "json",
        FEED="stuck",
        DRAIN_TIMEOUT="0.5",
    )
    service.wait_lines("handling o0")
    code = service.terminate()
    log = service.log_text()
    assert code == 1, log
    assert "drain timed out after 0.5 s" in log
    assert "'orders.created' (channel 'orders.created', group 'billing'): 1 running" in log
    assert '"level": "ERROR"' in log  # --log-format json
    assert service.lines()[-1].startswith("shutdown")


def test_sigint_drains_like_sigterm(start_service: Callable[..., Service]) -> None:
    service = start_service("orders_service:create_bus", "--url", "memory://", FEED="a")
    service.wait_lines("billed o0")
    assert service.terminate(signal.SIGINT) == 0, service.log_text()
    assert "received SIGINT" in service.log_text()


def test_a_handler_group_target_is_served_on_the_url(
    start_service: Callable[..., Service],
) -> None:
    port = free_port()
    service = start_service(
        "orders_service:handlers", "--url", "memory://", "--health-port", str(port)
    )
    service.wait_status(port, "/readyz", 200)
    assert service.terminate() == 0
    assert [line.split(" pid=")[0] for line in service.lines()] == ["startup", "shutdown"]


def test_metrics_are_404_unless_the_bus_has_metrics_middleware(
    start_service: Callable[..., Service],
) -> None:
    port = free_port()
    service = start_service(
        "orders_service:handlers", "--url", "memory://", "--health-port", str(port)
    )
    service.wait_status(port, "/readyz", 200)
    status, _, body = http_get(port, "/metrics")
    assert status == 404
    assert "MetricsMiddleware" in body
    assert http_get(port, "/nothing")[0] == 404
    assert service.terminate() == 0


def test_a_start_failure_exits_1_and_is_never_ready(start_service: Callable[..., Service]) -> None:
    service = start_service("orders_service:create_bus", "--url", "nats://127.0.0.1:1")
    code = service.process.wait(timeout=120)
    assert code == 1
    assert "could not start" in service.log_text()


def test_usage_errors_exit_2_and_say_what_is_wrong(
    start_service: Callable[..., Service],
) -> None:
    cases = {
        ("orders_service",): "expected MODULE:ATTR",
        ("no_such_module:bus",): "cannot import 'no_such_module'",
        ("orders_service:nothing", "--url", "memory://"): "has no attribute 'nothing'",
        ("orders_service:handlers",): "give the broker with --url or $EVENTBUS_URL",
        ("orders_service:OUT", "--url", "memory://"): "expected an EventBus, a HandlerGroup",
        ("orders_service:handlers", "--url", "memory://", "--workers", "0"): "--workers 0",
    }
    for args, message in cases.items():
        service = start_service(*args)
        assert service.process.wait(timeout=60) == 2, args
        assert message in service.log_text(), (args, service.log_text())


def test_metrics_serve_prometheus_text_when_the_bus_has_metrics_middleware(
    start_service: Callable[..., Service],
) -> None:
    port = free_port()
    service = start_service(
        "orders_service:create_bus",
        "--url",
        "memory://",
        "--health-port",
        str(port),
        FEED="a",
        METRICS="1",
    )
    service.wait_lines("billed o0")
    status, ctype, body = http_get(port, "/metrics")
    assert status == 200
    assert ctype.startswith("text/plain; version=0.0.4")
    consumed = [line for line in body.splitlines() if line.startswith("eventbus_consumed")]
    assert consumed, body
    assert 'eventbus_outcome="success"' in consumed[0]
    assert consumed[0].endswith(" 1.0")
    assert service.terminate() == 0


def test_reload_restarts_the_service_when_its_code_changes(
    start_service: Callable[..., Service],
) -> None:
    service = start_service("orders_service:create_bus", "--url", "memory://", "--reload")
    service.wait_lines("startup")
    source = service.workdir / "orders_service.py"
    source.write_text(source.read_text() + "\n# changed\n")
    service.wait_lines("startup", 2)
    assert service.wait_lines("shutdown")  # the old process drained and ran its hooks
    assert service.terminate() == 0
    starts = {line.split("pid=")[1] for line in service.wait_lines("startup", 2)}
    assert len(starts) == 2  # two processes, one after the other


def test_the_guides_service_runs_as_written(
    start_service: Callable[..., Service], tmp_path: Path
) -> None:
    """docs/running.md's billing/service.py, taken from the page: ready, then SIGTERM -> 0."""
    page = (Path(__file__).resolve().parents[2] / "docs" / "running.md").read_text()
    (code,) = re.findall(r"```python\n# billing/service.py\n(.*?)```", page, re.S)
    package = tmp_path / "billing"  # the service's working directory (start_service's)
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "service.py").write_text(code)
    port = free_port()
    service = start_service(
        "billing.service:create_bus", "--url", "memory://", "--health-port", str(port)
    )
    service.wait_status(port, "/readyz", 200)
    assert service.terminate() == 0, service.log_text()
    assert "drained and closed" in service.log_text()
