"""The health endpoints of ``eventbus run``: a tiny HTTP/1.1 server on asyncio streams.

``GET /healthz`` is 200 while the process runs; ``GET /readyz`` is 200 only while the service
is ready (else 503 with the reason); ``GET /metrics`` is Prometheus text when metrics are
enabled (else 404). One request per connection; no framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

__all__ = ["HealthServer"]

log = logging.getLogger("eventbus.run")

_REASONS = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 400: "Bad Request"}
_REASONS[503] = "Service Unavailable"
_MAX_HEADER_LINES = 100
_READ_TIMEOUT = 10.0
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class HealthServer:
    """``readiness()`` returns ``(ready, reason)``; ``metrics()`` the exposition text, or None
    when metrics are not enabled."""

    def __init__(
        self,
        readiness: Callable[[], tuple[bool, str]],
        metrics: Callable[[], bytes | None],
    ) -> None:
        self._readiness = readiness
        self._metrics = metrics
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self, host: str, port: int, *, reuse_port: bool = False) -> None:
        self._server = await asyncio.start_server(
            self._serve, host, port, reuse_port=reuse_port or None
        )

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def respond(self, method: str, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for one request (no I/O)."""
        if method not in ("GET", "HEAD"):
            return 405, "text/plain", b"only GET and HEAD\n"
        if path == "/healthz":
            return 200, "text/plain", b"ok\n"
        if path == "/readyz":
            ready, reason = self._readiness()
            return (200 if ready else 503), "text/plain", (reason + "\n").encode()
        if path == "/metrics":
            text = self._metrics()
            if text is None:
                body = (
                    b"metrics are not enabled: give the bus "
                    b"MetricsMiddleware(meter_provider=prometheus_meter_provider())\n"
                )
                return 404, "text/plain", body
            return 200, PROMETHEUS_TEXT, text
        return 404, "text/plain", b"not found: try /healthz, /readyz or /metrics\n"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, ctype, body, method = await self._read_and_answer(reader)
            head = (
                f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\nCache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode("latin-1") + (b"" if method == "HEAD" else body))
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that went away or sent garbage gets nothing more
        except Exception:
            log.exception("eventbus run: error answering a health request")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _read_and_answer(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes, str]:
        line = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT)
        for _ in range(_MAX_HEADER_LINES):
            header = await asyncio.wait_for(reader.readline(), _READ_TIMEOUT)
            if header in (b"\r\n", b"\n", b""):
                break
        else:
            return 400, "text/plain", b"too many header lines\n", "GET"
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            return 400, "text/plain", b"not an HTTP request line\n", "GET"
        method, target = parts[0], parts[1]
        path = target.split("?", 1)[0]
        status, ctype, body = self.respond(method, path)
        return status, ctype, body, method
