"""Serve one bus until SIGTERM/SIGINT: open, report ready, drain, close, exit code."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from eventbus._bus._eventbus import EventBus
from eventbus._runtime._health import HealthServer

__all__ = ["EXIT_DRAIN_TIMEOUT", "EXIT_START_FAILED", "Runner"]

log = logging.getLogger("eventbus.run")

EXIT_START_FAILED = 1
EXIT_DRAIN_TIMEOUT = 1
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Runner:
    """Runs ``bus`` as a service. ``phase`` is ``starting``, ``serving``, ``draining`` or
    ``stopped``; ``/readyz`` is 200 only while serving with every subscription listening."""

    def __init__(self, bus: EventBus, metrics: Callable[[], bytes | None] | None = None) -> None:
        self.bus = bus
        self.phase = "starting"
        self._stop = asyncio.Event()
        #: Set once the bus is open and serving (for embedding and tests).
        self.serving = asyncio.Event()
        self._signal: str | None = None
        self.health = HealthServer(self.readiness, metrics or (lambda: None))

    def readiness(self) -> tuple[bool, str]:
        if self.phase != "serving":
            return False, self.phase
        if not self.bus.is_open:
            return False, "the bus is not open"
        for sub in self.bus.subscriptions:
            if not sub.listening:
                return False, f"subscription {sub.pattern!r} is not listening"
        return True, "ready"

    def stop(self, reason: str = "stop requested") -> None:
        """Begin the graceful stop (what SIGTERM does)."""
        if self._stop.is_set():
            log.warning("eventbus run: %s while stopping already; still draining", reason)
            return
        self._signal = reason
        self._stop.set()

    async def run(
        self,
        *,
        health_host: str = "0.0.0.0",
        health_port: int | None = None,
        reuse_port: bool = False,
    ) -> int:
        loop = asyncio.get_running_loop()
        for sig in STOP_SIGNALS:
            loop.add_signal_handler(sig, self.stop, f"received {sig.name}")
        try:
            if health_port is not None:
                await self.health.start(health_host, health_port, reuse_port=reuse_port)
                log.info(
                    "eventbus run: health endpoints on http://%s:%d (/healthz /readyz /metrics)",
                    health_host,
                    self.health.port,
                )
            return await self._serve()
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)
            await self.health.close()

    async def _serve(self) -> int:
        bus = self.bus
        try:
            await bus.open()
        except Exception as exc:
            log.error("eventbus run: could not start %r: %s", bus, exc, exc_info=exc)
            self.phase = "stopped"
            return EXIT_START_FAILED
        self.phase = "serving"
        self.serving.set()
        patterns = [s.pattern for s in bus.subscriptions]
        log.info(
            "eventbus run: ready, %d subscriptions: %s",
            len(patterns),
            ", ".join(patterns) or "(none)",
            extra={"subscriptions": patterns},
        )
        await self._stop.wait()
        self.phase = "draining"
        log.info(
            "eventbus run: %s: stopping intake, draining in-flight handlers (up to %s s)",
            self._signal,
            bus.drain_timeout,
        )
        drained = await bus.close()
        self.phase = "stopped"
        if drained:
            log.info("eventbus run: drained and closed")
            return 0
        left = [
            f"{s.pattern!r} (channel {s.channel!r}, group {s.group!r}): {s.abandoned} running"
            for s in bus.subscriptions
            if s.abandoned
        ]
        log.error(
            "eventbus run: drain timed out after %s s; still running: %s; the broker "
            "redelivers their messages",
            bus.drain_timeout,
            "; ".join(left) or "(a subscription failed to close)",
            extra={"left": left},
        )
        return EXIT_DRAIN_TIMEOUT
