"""Start-up cost of ``EventBus("memory://")``: import + open + close, in fresh interpreters.

Compares this interpreter (with every adapter installed, as scripts/test.sh sets up) with a
core-only environment (``pip install .`` into a fresh venv, made here unless ``--core-python``
names one). Prints the median wall time of the whole process, the median time from the first
line of the script to the closed bus (interpreter start-up excluded) and the median peak RSS.
Target: all-adapters <= 1.2x core-only in time and RSS.

    python bench/startup.py [--runs 15] [--core-python /path/to/venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import time
t0 = time.perf_counter()
import asyncio, json, resource, sys
from eventbus import EventBus

async def main() -> None:
    async with EventBus("memory://"):
        pass

asyncio.run(main())
elapsed = time.perf_counter() - t0
heavy = sorted(m for m in ("nats", "grpc", "azure", "google", "aiobotocore", "confluent_kafka",
                           "eventbus_nats", "eventbus_pubsub", "eventbus_servicebus") if m in sys.modules)
rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"in_process_s": elapsed, "rss_mb": rss_kb / 1024, "heavy": heavy}))
"""


def measure(python: str, runs: int) -> dict[str, float | list[str]]:
    walls, inside, rss = [], [], []
    heavy: list[str] = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - start)
        result = json.loads(out.stdout)
        inside.append(result["in_process_s"])
        rss.append(result["rss_mb"])
        heavy = result["heavy"]
    return {
        "wall_s": statistics.median(walls),
        "in_process_s": statistics.median(inside),
        "rss_mb": statistics.median(rss),
        "heavy": heavy,
    }


def core_python(workdir: Path) -> str:
    subprocess.run([sys.executable, "-m", "venv", str(workdir / "venv")], check=True)
    python = str(workdir / "venv" / "bin" / "python")
    subprocess.run([python, "-m", "pip", "install", "-q", str(ROOT)], check=True)
    return python


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--core-python", help="interpreter of a venv with only eventbus")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        core = args.core_python or core_python(Path(tmp))
        measure(sys.executable, 2)  # warm the file cache and .pyc files
        measure(core, 2)
        everything = measure(sys.executable, args.runs)
        only = measure(core, args.runs)
    print(f"EventBus('memory://') import + open + close, median of {args.runs} fresh processes")
    print(f"{'':22}{'wall':>10}{'in process':>12}{'peak RSS':>11}  heavy modules imported")
    for name, r in (("all adapters", everything), ("core only", only)):
        print(
            f"{name:22}{r['wall_s'] * 1000:>8.0f}ms{r['in_process_s'] * 1000:>10.0f}ms"  # type: ignore[operator]
            f"{r['rss_mb']:>8.1f} MB  {', '.join(r['heavy']) or '-'}"  # type: ignore[arg-type]
        )
    for key, label in (("wall_s", "wall"), ("in_process_s", "in process"), ("rss_mb", "RSS")):
        ratio = everything[key] / only[key]  # type: ignore[operator]
        print(f"ratio {label}: {ratio:.2f}x (target <= 1.2x)")


if __name__ == "__main__":
    main()
