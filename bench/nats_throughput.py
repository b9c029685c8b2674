"""NATS end to end against raw nats-py (issue 14), on a nats-server this script starts.

Every case moves the same events (a small JSON order, decoded into a msgspec Struct by every
consumer) from a publisher connection to a subscriber connection in this one process:

  core  raw nats-py, body only (the issue's baseline) | raw nats-py with the same ce- headers
        eventbus binary mode sends | eventbus in its default mode on NATS (structured) |
        eventbus binary mode | FastStream's NATS broker (if installed: the bench extra)
  js    raw nats-py with pipelined ``publish_async`` and a ``fetch(256)`` loop acking each
        message, body only and with the ce- headers | eventbus default mode (JetStream,
        fan-out consumer)

The cases run interleaved (A B C, C B A, ...) like ``bench/compare.py``, which runs them too
with ``--nats``; the table shows CPU time of this process (both client connections; not
nats-server) and wall time per event, medians and the ratios of the targets:
core eventbus default >= 0.5x raw body-only, JetStream eventbus >= 2x raw (rates). Nothing is
asserted. Run: python bench/nats_throughput.py [--rounds N] [--events N] [--json PATH]
[--latency] (steady-rate publish -> handler latency, p50/p99, after the table) [--counts]
(instead of timings: Python calls and all calls per event in this process, load-independent;
each run's connecting and subscribing included, spread over its events).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import nats
from _nats import nats_server, percentile
from _nats_runs import (
    Sample,
    bus_e2e,
    faststream_e2e,
    make_events,
    raw_core_e2e,
    raw_js_e2e,
    subject,
    wire,
)

from eventbus import ContentMode

CORE = "mode=core&core_pending_limit=2000000"
STREAM = "RAWBENCH"
LATENCY_RATE, LATENCY_SECONDS = 5_000, 4.0

RATIOS = [  # (what, baseline case, eventbus case): the baseline's cost over ours = our rate / its
    ("core: eventbus default (structured) / raw body only", "core: raw nats-py body only", "core: eventbus default (structured)"),
    ("core: eventbus binary / raw body only", "core: raw nats-py body only", "core: eventbus binary"),
    ("core: eventbus binary / raw same headers", "core: raw nats-py same ce- headers", "core: eventbus binary"),
    ("core: eventbus default / FastStream", "core: FastStream", "core: eventbus default (structured)"),
    ("js: eventbus default / raw fetch loop body only", "js: raw nats-py fetch loop body only", "js: eventbus default (structured)"),
    ("js: eventbus default / raw fetch loop same headers", "js: raw nats-py fetch loop same headers", "js: eventbus default (structured)"),
]  # fmt: skip
TARGETS = {  # ratio name -> minimum (issue 14)
    "core: eventbus default (structured) / raw body only": 0.5,
    "js: eventbus default / raw fetch loop body only": 2.0,
}


def _run(make: Callable[[], object]) -> Callable[[], Sample]:
    def run() -> Sample:
        sample = asyncio.run(make())  # type: ignore[arg-type]
        if sample is None:
            raise RuntimeError("case not available")
        return sample  # type: ignore[no-any-return]

    return run


async def _make_stream(address: str) -> None:
    nc = await nats.connect(f"nats://{address}")
    await nc.jetstream().add_stream(name=STREAM, subjects=["rawbench.>"], retention="interest")
    await nc.close()


def nats_cases(address: str, n: int) -> dict[str, Callable[[], Sample]]:
    """The NATS cases on the server at ``address``: ``n`` events on core NATS, n/5 on
    JetStream (file storage, an ack per message) and for FastStream."""
    asyncio.run(_make_stream(address))
    n_js = max(1_000, n // 5)
    events = make_events(n)
    messages = wire(events)
    bodies = [(None, body) for _, body in messages]
    js_messages, js_bodies = messages[:n_js], bodies[:n_js]
    cases: dict[str, Callable[[], Sample]] = {
        "core: raw nats-py body only": _run(lambda: raw_core_e2e(address, bodies)),
        "core: raw nats-py same ce- headers": _run(lambda: raw_core_e2e(address, messages)),
        "core: eventbus default (structured)": _run(lambda: bus_e2e(address, events, CORE)),
        "core: eventbus binary": _run(lambda: bus_e2e(address, events, CORE, ContentMode.BINARY)),
        "js: raw nats-py fetch loop body only": _run(
            lambda: raw_js_e2e(address, js_bodies, STREAM)
        ),
        "js: raw nats-py fetch loop same headers": _run(
            lambda: raw_js_e2e(address, js_messages, STREAM)
        ),
        # fresh event ids each run: the stream drops re-sent ids (publisher dedupe)
        "js: eventbus default (structured)": lambda: asyncio.run(
            bus_e2e(address, make_events(n_js, subject("js")), "")
        ),
    }
    try:
        import faststream.nats  # noqa: F401
    except ImportError:
        print("FastStream not installed (pip install -e '.[bench]'): not compared", file=sys.stderr)
    else:
        cases["core: FastStream"] = _run(lambda: faststream_e2e(address, max(1_000, n // 5)))
    return cases


def show_targets(ratios: dict[str, dict[str, float]]) -> None:
    print("\ntargets (rate ratios from the medians of CPU time and of wall time)")
    for what, minimum in TARGETS.items():
        if what in ratios:
            cpu, wall = ratios[what]["cpu"], ratios[what]["wall"]
            verdicts = ", ".join(
                f"{kind} {got:.2f}x {'met' if got >= minimum else 'MISSED'}"
                for kind, got in (("cpu", cpu), ("wall", wall))
            )
            print(f"  {what:52} >= {minimum}x: {verdicts}")


def latencies(address: str) -> None:
    from _nats_latency import latency

    print(f"\nlatency publish -> handler at {LATENCY_RATE:,} events/s, one publish per event")
    for target in ("raw-core", "eventbus-core", "raw-jetstream", "eventbus-jetstream"):
        lat = asyncio.run(latency(address, target, LATENCY_RATE, LATENCY_SECONDS))
        p50, p99 = percentile(lat, 0.50), percentile(lat, 0.99)
        print(f"  {target:20} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({len(lat):,} samples)")


def run_and_report(
    cases: dict[str, Callable[[], Sample]], rounds: int, json_path: Path
) -> dict[str, dict[str, float]]:
    """Warm up, run the cases interleaved, print medians and the ratios, write the JSON."""
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    for run in cases.values():  # warm-up: connections, imports, first-run allocations
        run()
    for r in range(rounds):
        for name in list(cases) if r % 2 == 0 else list(reversed(cases)):
            samples[name].append(cases[name]())
        print(f"round {r + 1}/{rounds} done", file=sys.stderr)
    rows: dict[str, dict[str, float]] = {}
    print(f"{'case':40} {'cpu µs/event min/median/max':>30} {'wall µs median':>15}")
    for name, got in samples.items():
        cpu = sorted(s[0] * 1e6 for s in got)
        wall = statistics.median(s[1] * 1e6 for s in got)
        rows[name] = {"cpu_median_us": statistics.median(cpu), "wall_median_us": wall}
        print(f"{name:40} {cpu[0]:9.2f} {statistics.median(cpu):9.2f} {cpu[-1]:9.2f}  {wall:13.2f}")
    print(f"\n{'ratio (rates: baseline cost / eventbus cost)':52} {'cpu':>7} {'wall':>7}")
    ratios = {}
    for what, a, b in RATIOS:
        if a in rows and b in rows:
            ratios[what] = {
                "cpu": rows[a]["cpu_median_us"] / rows[b]["cpu_median_us"],
                "wall": rows[a]["wall_median_us"] / rows[b]["wall_median_us"],
            }
            print(f"{what:52} {ratios[what]['cpu']:6.2f}x {ratios[what]['wall']:6.2f}x")
    load = os.getloadavg()
    json_path.write_text(
        json.dumps({"rounds": rounds, "loadavg": load, "cases": rows, "ratios": ratios}, indent=2)
    )
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; written: {json_path}")
    return ratios


def counts(cases: dict[str, Callable[[], Sample]], n: int) -> None:
    from _counts import calls_per_op

    print(f"{'case':40} {'py calls/event':>15} {'all calls/event':>16}")
    for name, case in cases.items():
        per = max(1_000, n // 5) if name.startswith("js:") or "FastStream" in name else n
        python, every = calls_per_op(case, 1)
        print(f"{name:40} {python / per:15.1f} {every / per:16.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--events", type=int, default=50_000, help="events per core NATS run")
    parser.add_argument("--json", type=Path, default=Path("bench-nats.json"))
    parser.add_argument("--latency", action="store_true", help="also measure latency")
    parser.add_argument("--counts", action="store_true", help="calls per event, no timings")
    args = parser.parse_args()
    if args.counts:
        with nats_server() as address:
            counts(nats_cases(address, args.events), args.events)
        return
    with nats_server() as address:
        print(
            f"nats-server at {address}; {args.events:,} events per core run, {args.rounds} rounds"
        )
        ratios = run_and_report(nats_cases(address, args.events), args.rounds, args.json)
        show_targets(ratios)
        if args.latency:
            latencies(address)


if __name__ == "__main__":
    main()
