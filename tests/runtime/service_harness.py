"""Run ``eventbus run`` as a subprocess and talk to its health endpoints over real HTTP."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).parent
WAIT = 60.0  # generous: the machine is shared; every wait ends as soon as its condition holds


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(port: int, path: str) -> tuple[int, str, str]:
    """(status, content type, body) of ``GET path``; raises OSError if nothing listens."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type") or "", response.read().decode()
    finally:
        conn.close()


class Service:
    """``eventbus run TARGET ARGS`` in ``workdir`` (a copy of orders_service.py is put there)."""

    def __init__(self, workdir: Path, target: str, args: Sequence[str], **env: str) -> None:
        shutil.copy(HERE / "orders_service.py", workdir / "orders_service.py")
        self.workdir = workdir
        self.out = workdir / "out.txt"
        self.out.touch()
        self.log = workdir / "service.log"
        environ = {**os.environ, "SERVICE_OUT": str(self.out), **env}
        environ.pop("EVENTBUS_URL", None)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "eventbus", "run", target, *args],
                cwd=workdir,
                env=environ,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def lines(self) -> list[str]:
        return self.out.read_text().splitlines()

    def log_text(self) -> str:
        return self.log.read_text()

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT
        while not condition():
            if self.process.poll() is not None and not condition():
                raise AssertionError(
                    f"service exited ({self.process.returncode}) before {what}:\n{self.log_text()}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.log_text()}")
            time.sleep(0.05)

    def wait_lines(self, prefix: str, count: int = 1) -> list[str]:
        found: list[str] = []

        def enough() -> bool:
            found[:] = [line for line in self.lines() if line.startswith(prefix)]
            return len(found) >= count

        self.wait_for(f"{count} lines {prefix!r}", enough)
        return found

    def status(self, port: int, path: str) -> int | None:
        try:
            return http_get(port, path)[0]
        except OSError:
            return None

    def wait_status(self, port: int, path: str, expected: int) -> None:
        self.wait_for(f"GET {path} -> {expected}", lambda: self.status(port, path) == expected)

    def terminate(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"service ignored {sig}:\n{self.log_text()}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
