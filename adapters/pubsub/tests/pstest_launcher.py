"""Builds and starts ``pstest-server`` (Google's in-memory Pub/Sub fake, wrapped in Go).

``build_pstest()`` runs ``go build`` into ``adapters/pubsub/pstest-server/build/`` when the
binary is missing or older than its sources (Go's build cache makes a rebuild quick; the first
one downloads modules from the Go module proxy and takes about a minute). ``PstestServer``
starts it on a free port and stops it; the server also exits when its standard input closes,
so a crashed test run leaves no server behind. Shared by the tests and the benchmark.

``PstestServer(control=True)`` also serves the wrapper's ack fault-injection endpoint
(``pstest-server/faults.go``): ``inject(...)`` makes chosen Acknowledge / ModifyAckDeadline calls
fail as Pub/Sub reports ack failures, ``faults()`` lists the rules with their hits, and
``messages(topic)`` tells how often pstest delivered and acked each message.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

__all__ = ["PSTEST_DIR", "PstestServer", "PstestUnavailable", "build_pstest"]

PSTEST_DIR = Path(__file__).resolve().parents[1] / "pstest-server"
BINARY = PSTEST_DIR / "build" / "pstest-server"
_GO_HOMES = ("/usr/local/go/bin/go", "/usr/lib/go/bin/go")
#: pstest's gRPC server takes requests of at most 4 MiB (grpc-go's default).
PSTEST_MAX_REQUEST_BYTES = 4 * 1024 * 1024
PSTEST_PULL_TIMEOUT = 0.2


class PstestUnavailable(RuntimeError):
    """Go is not installed, or the build failed."""


def build_pstest() -> Path:
    sources = [*PSTEST_DIR.glob("*.go"), PSTEST_DIR / "go.mod", PSTEST_DIR / "go.sum"]
    newest = max(path.stat().st_mtime for path in sources)
    if BINARY.exists() and BINARY.stat().st_mtime >= newest:
        return BINARY
    go = shutil.which("go") or next((g for g in _GO_HOMES if os.access(g, os.X_OK)), None)
    if go is None:
        raise PstestUnavailable("Go is not installed: it builds the pstest server (apt: golang)")
    BINARY.parent.mkdir(parents=True, exist_ok=True)
    partial = BINARY.with_name(f"pstest-server.{os.getpid()}.tmp")
    result = subprocess.run(
        [go, "build", "-buildvcs=false", "-o", str(partial), "."],
        cwd=PSTEST_DIR,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise PstestUnavailable(f"go build of pstest-server failed:\n{result.stderr[-4000:]}")
    partial.replace(BINARY)
    return BINARY


class PstestServer:
    """One pstest-server process on 127.0.0.1 and a free port.

    ``fail``: ``Method=CODE`` entries (``Publish=PERMISSION_DENIED``): every call of the method
    fails with that gRPC status (pstest's error injection). ``control``: serve the ack
    fault-injection endpoint (off by default: nothing can be injected).
    """

    def __init__(self, fail: tuple[str, ...] = (), *, control: bool = False) -> None:
        self.binary = build_pstest()
        self.fail = fail
        self.control = control
        self.process: subprocess.Popen[bytes] | None = None
        self.host = ""
        self.control_host = ""

    def start(self, timeout: float = 15.0) -> PstestServer:
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "-addr",
                "127.0.0.1:0",
                "-stdin-eof",
                *(f"-fail={entry}" for entry in self.fail),
                *(["-control"] if self.control else []),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("listening on ") or time.monotonic() > deadline:
            self.stop()
            raise PstestUnavailable(f"pstest-server did not start: {line!r}")
        self.host = line.removeprefix("listening on ")
        if self.control:
            line = self.process.stdout.readline().decode().strip()
            if not line.startswith("control on "):
                self.stop()
                raise PstestUnavailable(f"pstest-server has no control endpoint: {line!r}")
            self.control_host = line.removeprefix("control on ")
        return self

    def url(self, project: str = "test-project", **params: object) -> str:
        query = {
            "emulator_host": self.host,
            "max_request_bytes": PSTEST_MAX_REQUEST_BYTES,
            # pstest answers an empty Pull only after 500 ms; a short deadline re-polls sooner
            # (safe on pstest, which leases nothing while it waits)
            "pull_timeout": PSTEST_PULL_TIMEOUT,
        }
        query.update(params)
        return f"pubsub://{project}?{urlencode(query)}"

    # -- the ack fault-injection endpoint (control=True) ----------------------------------------

    def inject(
        self,
        method: str,
        code: str,
        *,
        times: int = 1,
        reason: str | None = None,
        subscription: str | None = None,
        attributes: dict[str, str] | None = None,
        deadline: int | None = None,
    ) -> dict[str, Any]:
        """Fail the next ``times`` calls of ``method`` (``Acknowledge`` or ``ModifyAckDeadline``)
        that carry an ack ID of a message with all of ``attributes`` (any message without), on
        ``subscription`` if given, with ack deadline ``deadline`` if given. Without ``reason``
        the whole call fails with gRPC status ``code``; with it, the selected ack IDs fail with
        that exactly-once reason (ErrorInfo ``EXACTLY_ONCE_ACKID_FAILURE``) and the others are
        applied. Returns the rule."""
        rule: dict[str, Any] = {"method": method, "code": code, "times": times}
        optional = {
            "reason": reason,
            "subscription": subscription,
            "attributes": attributes,
            "deadline": deadline,
        }
        rule.update({key: value for key, value in optional.items() if value is not None})
        result: dict[str, Any] = self._control("POST", "/faults", rule)
        return result

    def faults(self) -> list[dict[str, Any]]:
        """The rules, each with its ``hits`` and the ``times`` it has left."""
        result: list[dict[str, Any]] = self._control("GET", "/faults")
        return result

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def messages(self, topic: str) -> list[dict[str, Any]]:
        """pstest's record of the messages published to ``topic`` (a topic path): ``id``,
        ``attributes``, ``deliveries`` and ``acks``."""
        result: list[dict[str, Any]] = self._control(
            "GET", f"/messages?{urlencode({'topic': topic})}"
        )
        return result

    def _control(self, method: str, path: str, body: object = None) -> Any:
        if not self.control_host:
            raise RuntimeError("this pstest server has no control endpoint (control=True)")
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"http://{self.control_host}{path}", data, method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
