"""``eventbus run MODULE:ATTR``: serve a bus as a long-running process.

Graceful stop on SIGTERM/SIGINT (stop intake, drain within the bus's drain timeout, close),
health endpoints (``/healthz``, ``/readyz``, ``/metrics``), N worker processes, reload on
code changes, JSON or text logs. See docs/running.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from typing import Any

from eventbus._errors import ConfigurationError

__all__ = ["add_parser", "run"]

LOG_LEVELS = ("debug", "info", "warning", "error", "critical")


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="run a consumer service: open the bus, serve until SIGTERM/SIGINT, drain, exit",
        description="Serve MODULE:ATTR, an EventBus, a HandlerGroup (with --url) or a function "
        "returning an EventBus (called with the --url when one is given). Exit codes: 0 "
        "stopped and drained, 1 start failed or the drain timed out, 2 usage.",
    )
    p.add_argument("target", metavar="MODULE:ATTR", help="what to serve, e.g. shop.billing:bus")
    p.add_argument(
        "--url",
        help="broker URL for a HandlerGroup or factory target (default: $EVENTBUS_URL)",
    )
    p.add_argument(
        "--health-port",
        type=int,
        default=None,
        metavar="PORT",
        help="serve GET /healthz, /readyz and /metrics on this port (0: any free port)",
    )
    p.add_argument(
        "--health-host",
        default="0.0.0.0",
        metavar="HOST",
        help="address of the health endpoints (default 0.0.0.0, reachable by probes)",
    )
    p.add_argument(
        "--workers", type=int, default=1, metavar="N", help="run N processes (default 1)"
    )
    p.add_argument(
        "--reload",
        action="store_true",
        help="restart when a .py file changes (development; needs eventbus[reload])",
    )
    p.add_argument(
        "--reload-dir",
        action="append",
        default=[],
        metavar="DIR",
        help="directory to watch with --reload (repeatable; default: the current directory)",
    )
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="log line format")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="lowest level logged")


def _configure_logging(fmt: str, level: str) -> None:
    from eventbus._observe._logs import JsonFormatter

    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def _child_args(args: argparse.Namespace) -> list[str]:
    out = ["run", args.target, "--log-format", args.log_format, "--log-level", args.log_level]
    if args.url is not None:
        out += ["--url", args.url]
    if args.health_port is not None:
        out += ["--health-port", str(args.health_port), "--health-host", args.health_host]
    return out


def _metrics_for(bus: Any) -> Any:
    from eventbus._observe._metrics import MetricsMiddleware, prometheus_text

    if not any(isinstance(m, MetricsMiddleware) for m in bus.middleware):
        return None
    return prometheus_text


def run(args: argparse.Namespace) -> int:
    """The ``eventbus run`` command."""
    from eventbus._runtime._workers import WORKER_ENV, reload, supervise

    _configure_logging(args.log_format, args.log_level)
    if args.workers < 1:
        raise ConfigurationError(f"--workers {args.workers}: give a number >= 1")
    if args.health_port is not None and not 0 <= args.health_port <= 65535:
        raise ConfigurationError(f"--health-port {args.health_port}: give a port 0..65535")
    if args.reload and args.workers > 1:
        raise ConfigurationError("--reload runs one process: drop --workers")
    if args.reload:
        return reload(_child_args(args), args.reload_dir or [os.getcwd()], grace=30)
    if args.workers > 1:
        if args.health_port == 0:
            raise ConfigurationError("--workers share the health port: give a fixed --health-port")
        return supervise(_child_args(args), args.workers)

    from eventbus._runtime._loader import load_bus
    from eventbus._runtime._runner import Runner

    bus = load_bus(args.target, args.url)
    runner = Runner(bus, metrics=_metrics_for(bus))
    return asyncio.run(
        runner.run(
            health_host=args.health_host,
            health_port=args.health_port,
            reuse_port=WORKER_ENV in os.environ,
        )
    )
