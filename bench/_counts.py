"""Load-independent cost per operation: Python calls (always) and CPU instructions (valgrind).

Timings on a shared machine move with the load of other processes; these counts do not.

``calls_per_op`` counts the Python function calls, and all calls including builtins and other C
functions, that ``sys.setprofile`` sees while ``fn`` runs ``n`` times (the interpreter's own work
between calls is not counted, so it is a proxy).

``instructions_per_op`` runs this file under ``valgrind --tool=callgrind`` in a child process
that builds the named cases, runs each once to warm it up, then runs each ``n`` times between
two calls of a marker C function (libc ``getppid``, called by ``os.getppid``) that callgrind
dumps its counters before (``--dump-before``): the dump after a case holds that case's instructions alone.
Every dump is checked to be one of ours (their number must match), so a stray call of the
marker would fail loudly rather than mislabel a figure.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

MARKER = "getppid"


def calls_per_op(fn: Callable[[], object], n: int) -> tuple[float, float]:
    """Python function calls, and all calls (Python and C), per call of ``fn``
    (``sys.setprofile`` events; the call of ``fn`` itself counts as one Python call)."""
    fn()  # warm caches first, as the timed runs do
    python = native = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal python, native
        if event == "call":
            python += 1
        elif event == "c_call":
            native += 1

    calls = range(n)
    sys.setprofile(profile)
    try:
        for _ in calls:
            fn()
    finally:
        sys.setprofile(None)
    native -= 1  # the setprofile(None) call itself
    return python / n, (python + native) / n


def valgrind() -> str | None:
    return shutil.which("valgrind")


def instructions_per_op(module: str, factory: str, names: list[str], n: int) -> dict[str, float]:
    """CPU instructions per operation of each case ``names`` of ``module.factory(n)`` (a mapping
    of case name to ``(fn, ops)``: a zero-argument function doing ``ops`` operations), counted by
    callgrind in a child process that calls each ``fn`` about ``n / ops`` times."""
    tool = valgrind()
    if tool is None:
        raise RuntimeError("valgrind is not installed (apt-get install -y valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        cmd = [
            tool,
            "--tool=callgrind",
            f"--dump-before={MARKER}",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            module,
            factory,
            str(n),
            *names,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        done = subprocess.run(
            cmd, check=True, capture_output=True, text=True, env=env, cwd=Path(__file__).parent
        )
        ops: dict[str, int] = json.loads(done.stdout.splitlines()[-1])
        dumps = sorted(
            (p for p in Path(tmp).iterdir() if re.fullmatch(r"cg\.out\.\d+", p.name)),
            key=lambda p: int(p.name.rsplit(".", 1)[1]),
        )
        # dump 1: start-up and warm-up; then one dump per case; the rest after the last marker.
        if len(dumps) != len(names) + 1:
            raise RuntimeError(f"expected {len(names) + 1} callgrind dumps, got {len(dumps)}")
        counts = [_total(p) for p in dumps[1:]]
    return {name: count / ops[name] for name, count in zip(names, counts, strict=True)}


def _total(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:") or line.startswith("summary:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {path}")


def _child(module: str, factory: str, n: int, names: list[str]) -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    cases: Mapping[str, tuple[Callable[[], object], int]] = getattr(__import__(module), factory)(n)
    marker = os.getppid
    chosen = [(cases[name][0], max(1, n // cases[name][1])) for name in names]
    for fn, _ in chosen:
        fn()
    marker()
    for fn, reps in chosen:
        for _ in range(reps):
            fn()
        marker()
    print(
        json.dumps(
            {name: reps * cases[name][1] for name, (_, reps) in zip(names, chosen, strict=True)}
        )
    )


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:])
