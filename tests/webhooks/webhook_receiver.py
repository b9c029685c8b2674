"""A real HTTP receiver for the webhook tests: uvicorn on a free port, in its own thread.

Each path answers from a script of outcomes (then the path's default, 200):
``("status", code, headers, body)``, ``("hang", seconds)`` (answer 200 after that long, past
the client's timeout), ``("close",)`` (start the answer, then drop the connection). ``OPTIONS``
answers the abuse-protection handshake as ``handshake[path]`` says: ``"allow"`` (default),
``"deny"`` (403), ``"no-origin"`` (200 allowing another origin) or a rate to grant. Every request is recorded (method, headers, body, when).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import uvicorn


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)
    answered: bool = False


class Receiver:
    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.scripts: dict[str, deque[tuple[Any, ...]]] = defaultdict(deque)
        self.defaults: dict[str, tuple[Any, ...]] = {}
        self.handshake: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- control (from the tests) ----------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(
        self, path: str, *outcomes: tuple[Any, ...], default: tuple[Any, ...] | None = None
    ) -> None:
        with self._lock:
            self.scripts[path].extend(outcomes)
            if default is not None:
                self.defaults[path] = default

    def posts(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == "POST"]

    def options(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path and r.method == "OPTIONS"]

    async def wait_posts(self, path: str, count: int, timeout: float = 30.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while True:
            got = self.posts(path)
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{path}: {len(got)} POST(s) after {timeout} s, wanted {count}"
                )
            await asyncio.sleep(0.02)

    async def wait_answered(self, path: str, count: int, timeout: float = 30.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while True:
            got = [r for r in self.posts(path) if r.answered]
            if len(got) >= count:
                return got
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{path}: {len(got)} answered after {timeout} s, wanted {count}"
                )
            await asyncio.sleep(0.02)

    # -- the ASGI app ------------------------------------------------------------------------------

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(scope["method"], path, headers, body)
        with self._lock:
            self.requests.append(request)
            if scope["method"] == "POST":
                script = self.scripts[path]
                outcome = script.popleft() if script else self.defaults.get(path, ("status", 200))
            else:
                outcome = ("handshake", self.handshake.get(path, "allow"))
        kind = outcome[0]
        if kind == "handshake":
            await self._handshake(headers, outcome[1], send)
        elif kind == "hang":
            await asyncio.sleep(outcome[1])
            await self._answer(send, 200, [], b"late")
        elif kind == "close":
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-length", b"100")],
                }
            )
            raise ConnectionResetError("closing the connection on purpose")
        else:
            status = outcome[1]
            extra = outcome[2] if len(outcome) > 2 else []
            text = outcome[3] if len(outcome) > 3 else b"ok"
            await self._answer(send, status, extra, text)
        request.answered = True

    async def _handshake(self, headers: dict[str, str], how: Any, send: Any) -> None:
        origin = headers.get("webhook-request-origin", "")
        if how == "deny":
            await self._answer(send, 403, [], b"no")
            return
        if how == "no-origin":  # a 200 that does not name the origin: not an agreement
            await self._answer(send, 200, [("webhook-allowed-origin", "someone.else")], b"")
            return
        extra = [("webhook-allowed-origin", origin)]
        if isinstance(how, int):
            extra.append(("webhook-allowed-rate", str(how)))
        await self._answer(send, 200, extra, b"")

    @staticmethod
    async def _answer(send: Any, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        raw = [(k.encode(), v.encode()) for k, v in headers]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> Receiver:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self, log_level="critical", lifespan="on", timeout_graceful_shutdown=1, access_log=False
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
