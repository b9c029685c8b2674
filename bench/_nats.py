"""Helpers for the NATS benchmarks: a private nats-server, payloads, percentiles (not shipped)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence

import msgspec

__all__ = ["Order", "Stamped", "nats_server", "percentile"]


class Order(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int


class Stamped(msgspec.Struct):
    """A payload carrying its send time (perf_counter seconds) for latency runs."""

    order_id: str
    sent_at: float


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def nats_server() -> Iterator[str]:
    """Start ``nats-server -js`` on a free port with a temporary store; yield its address."""
    binary = shutil.which("nats-server")
    if binary is None:
        raise SystemExit("nats-server is not installed (Debian: apt-get install nats-server)")
    port = _free_port()
    with tempfile.TemporaryDirectory() as store:
        process = subprocess.Popen(
            [binary, "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", store],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                        if s.recv(1024).startswith(b"INFO"):
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]
