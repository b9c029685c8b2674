"""Starts a real ``nats-server`` for tests: a free port, a JetStream store, optional config file."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from eventbus.testing import unavailable

__all__ = ["NatsServer", "free_port", "require_nats_server"]


def require_nats_server() -> str:
    """The nats-server binary. Missing: the test fails in CI (``CI`` set), skips elsewhere."""
    binary = shutil.which("nats-server")
    if binary is None:
        unavailable("nats-server is not installed (Debian: apt-get install nats-server)")
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """One nats-server process. ``restart()`` keeps the port and the JetStream store."""

    def __init__(
        self,
        workdir: Path,
        *,
        jetstream: bool = True,
        config: str | None = None,
        port: int | None = None,
    ) -> None:
        self.binary = require_nats_server()
        self.port = port or free_port()
        self.store = workdir / "store"
        self.workdir = workdir
        self.jetstream = jetstream
        self.config_file: Path | None = None
        if config is not None:
            self.config_file = workdir / "server.conf"
            self.config_file.write_text(config)
        self.log_file = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, query: str = "") -> str:
        return f"nats://{self.address}" + (f"?{query}" if query else "")

    def start(self) -> NatsServer:
        args = [self.binary, "-a", "127.0.0.1", "-p", str(self.port)]
        if self.jetstream:
            args += ["-js", "-sd", str(self.store)]
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        log = self.log_file.open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self._wait_ready()
        return self

    def _wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"nats-server exited: {self.log_file.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    if s.recv(4096).startswith(b"INFO"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"nats-server did not start: {self.log_file.read_text()[-2000:]}")

    def stop(self, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        if kill:
            process.kill()
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self, kill: bool = True, pause: float = 0.0) -> None:
        self.stop(kill=kill)
        time.sleep(pause)
        self.start()
