"""Worker processes for the jobs kill tests: start one and read what it ran."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def start_worker(script: Path, *args: object) -> subprocess.Popen[str]:
    """Run ``script`` with ``args``; return once it printed ``ready`` (it is subscribed)."""
    process = subprocess.Popen(
        [sys.executable, str(script), *map(str, args)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until subscribed (or the process died)
    assert line.strip() == "ready", f"worker did not start: {line!r}"
    return process


def runs(out: Path) -> list[tuple[str, int]]:
    """The (job id, attempt) lines a worker wrote to ``out``."""
    if not out.exists():
        return []
    rows = [line.split() for line in out.read_text().splitlines() if line.strip()]
    return [(r[0], int(r[1])) for r in rows if len(r) == 2]
