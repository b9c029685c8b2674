"""Start moto's server (``python -m moto.server``, SNS + SQS + STS) on a free port.

The real aiobotocore clients talk HTTP to it like to AWS: nothing in the SDK is mocked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

__all__ = ["MotoServer", "MotoUnavailable", "free_port"]

REGION = "us-east-1"
#: Credentials the local server accepts (any will do); set for the tests' process only.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


class MotoUnavailable(RuntimeError):
    """moto (with its server extra) is not installed."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class MotoServer:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / "moto.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, **params: object) -> str:
        query = "&".join(f"{k}={v}" for k, v in {"endpoint": self.endpoint, **params}.items())
        return f"sqs://{REGION}?{query}"

    def start(self, timeout: float = 30.0) -> MotoServer:
        try:
            import flask  # noqa: F401
            import moto.server  # noqa: F401
        except ImportError as exc:
            raise MotoUnavailable(
                f"moto[server] is not installed ({exc}); pip install 'eventbus-aws[test]'"
            ) from None
        self.port = free_port()
        env = {**os.environ, **TEST_CREDENTIALS}
        with self._log.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=env,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"moto server exited: {self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not listen within {timeout} s: {self.log_tail()}")

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
