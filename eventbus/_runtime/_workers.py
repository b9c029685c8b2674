"""``--workers N`` and ``--reload``: supervise child ``eventbus run`` processes."""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import Sequence
from types import FrameType

from eventbus._store._dbutil import require

__all__ = ["WORKER_ENV", "reload", "supervise"]

log = logging.getLogger("eventbus.run")

#: Set in each worker to its number (0..N-1): the worker then shares the health port.
WORKER_ENV = "EVENTBUS_WORKER"


def _command(child_args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "eventbus", *child_args]


def supervise(child_args: Sequence[str], workers: int) -> int:
    """Run ``workers`` processes; SIGTERM/SIGINT is passed on to each, which drains. When one
    exits by itself, the others are stopped too. The exit code is the first non-zero one."""
    stopping = False
    procs: dict[int, subprocess.Popen[bytes]] = {}

    def stop_all(signum: int, frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for proc in procs.values():
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop_all) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for i in range(workers):
            env = {**os.environ, WORKER_ENV: str(i)}
            proc = subprocess.Popen(_command(child_args), env=env)
            procs[proc.pid] = proc
        log.info("eventbus run: started %d workers: pids %s", workers, sorted(procs))
        codes: list[int] = []
        while len(codes) < len(procs):
            pid, status = os.wait()
            proc_or_none = procs.get(pid)
            if proc_or_none is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            proc_or_none.returncode = code
            codes.append(code)
            if not stopping:
                log.error(
                    "eventbus run: worker pid %d exited with %d; stopping the others", pid, code
                )
                stop_all(signal.SIGTERM)
        failed = [c for c in codes if c != 0]
        return (failed[0] if failed[0] > 0 else 1) if failed else 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def reload(child_args: Sequence[str], paths: Sequence[str], grace: int) -> int:
    """Run one worker and restart it when a Python file under ``paths`` changes (watchfiles).
    A restart sends SIGINT, so the old process drains for up to ``grace`` seconds first."""
    watchfiles = require("watchfiles", "reload")
    log.info("eventbus run: reloading on changes under %s", ", ".join(paths))
    watchfiles.run_process(
        *paths,
        target=shlex.join(_command(child_args)),
        target_type="command",
        watch_filter=watchfiles.PythonFilter(),
        sigint_timeout=grace,
        callback=lambda changes: log.info(
            "eventbus run: %d files changed, restarting", len(changes)
        ),
    )
    return 0
