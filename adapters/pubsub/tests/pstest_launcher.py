"""Builds and starts ``pstest-server`` (Google's in-memory Pub/Sub fake, wrapped in Go).

``build_pstest()`` runs ``go build`` into ``adapters/pubsub/pstest-server/build/`` when the
binary is missing or older than its sources (Go's build cache makes a rebuild quick; the first
one downloads modules from the Go module proxy and takes about a minute). ``PstestServer``
starts it on a free port and stops it; the server also exits when its standard input closes,
so a crashed test run leaves no server behind. Shared by the tests and the benchmark.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path
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
    sources = [PSTEST_DIR / name for name in ("main.go", "go.mod", "go.sum")]
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
    fails with that gRPC status (pstest's error injection).
    """

    def __init__(self, fail: tuple[str, ...] = ()) -> None:
        self.binary = build_pstest()
        self.fail = fail
        self.process: subprocess.Popen[bytes] | None = None
        self.host = ""

    def start(self, timeout: float = 15.0) -> PstestServer:
        self.process = subprocess.Popen(
            [
                str(self.binary),
                "-addr",
                "127.0.0.1:0",
                "-stdin-eof",
                *(f"-fail={entry}" for entry in self.fail),
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
