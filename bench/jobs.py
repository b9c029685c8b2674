"""Durable jobs: submit -> succeeded throughput and latency on memory:// with the SQLite store,
against a floor (plain publish + handler, no status tracking), measured in the same run.

Both cases publish N events from one task, ``window`` in flight at a time (``asyncio.gather``
of ``window`` submits/publishes), to one consumer group with ``max_in_flight`` 64 and a handler
that returns at once. Latency is per event, from the call to ``submit`` (``publish`` for the
floor) until the job's ``succeeded`` status event arrives (the handler returned, for the
floor). Throughput is N over the time from the first call to the last completion. Each case
is run ``--runs`` times alternately; the best throughput and its latencies are reported.
Nothing is asserted.

    python bench/jobs.py [--events N] [--window W] [--runs R] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from eventbus import Event, EventBus, Jobs, SqliteJobStore


def _summary(name: str, n: int, elapsed: float, latencies: list[float]) -> dict[str, Any]:
    latencies.sort()
    return {
        "case": name,
        "events": n,
        "per_second": n / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


async def floor(n: int, window: int) -> dict[str, Any]:
    kind = f"bench.t{uuid.uuid4().hex[:8]}.floor"
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    async with EventBus("memory://") as bus:

        async def handle(event: Event[Any]) -> None:
            latencies.append(time.perf_counter() - sent[event.id])
            if len(latencies) == n:
                done.set()

        await bus.subscribe(kind, handle, group="workers", max_in_flight=64)
        events = [Event(type=kind, source="/bench", data=i) for i in range(n)]
        start = time.perf_counter()

        async def publish(event: Event[Any]) -> None:
            sent[event.id] = time.perf_counter()
            await bus.publish(event)

        for i in range(0, n, window):
            await asyncio.gather(*(publish(e) for e in events[i : i + window]))
        await done.wait()
        elapsed = time.perf_counter() - start
    return _summary("floor: publish + handler", n, elapsed, latencies)


async def jobs_case(n: int, window: int, directory: Path) -> dict[str, Any]:
    kind = f"bench.t{uuid.uuid4().hex[:8]}.job"
    prefix = f"bench.t{uuid.uuid4().hex[:8]}.status"
    submitted_at: dict[str, float] = {}
    latencies: list[float] = []
    done = asyncio.Event()
    async with EventBus("memory://") as bus:
        store = SqliteJobStore(directory / f"{kind}.db")
        jobs = Jobs(bus, store, events_prefix=prefix)

        async def work(event: Event[Any]) -> Any:
            return event.data

        async def succeeded(event: Event[Any]) -> None:
            job_id = str(event.extensions["jobid"])
            latencies.append(time.perf_counter() - submitted_at[job_id])
            if len(latencies) == n:
                done.set()

        await jobs.worker(kind, work, max_in_flight=64)
        await bus.subscribe(f"{prefix}.succeeded", succeeded)
        events = [Event(type=kind, source="/bench", data=i) for i in range(n)]
        start = time.perf_counter()

        async def submit(event: Event[Any]) -> None:
            began = time.perf_counter()
            status = await jobs.submit(event)
            submitted_at[status.id] = began

        for i in range(0, n, window):
            await asyncio.gather(*(submit(e) for e in events[i : i + window]))
        await done.wait()
        elapsed = time.perf_counter() - start
        await store.close()
    return _summary("jobs: submit -> succeeded (SQLite)", n, elapsed, latencies)


async def main(n: int, window: int, runs: int) -> list[dict[str, Any]]:
    best: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(runs):
            for result in (await floor(n, window), await jobs_case(n, window, Path(tmp))):
                kept = best.get(result["case"])
                if kept is None or result["per_second"] > kept["per_second"]:
                    best[result["case"]] = result
    return list(best.values())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--window", type=int, default=32)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = asyncio.run(main(args.events, args.window, args.runs))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        base = results[0]["per_second"]
        for r in results:
            print(
                f"{r['case']:<38} {r['per_second']:>9,.0f}/s ({r['per_second'] / base:.3f}x)  "
                f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  (n={r['events']})"
            )
