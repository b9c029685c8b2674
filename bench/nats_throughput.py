"""NATS adapter: throughput and latency against raw nats-py (and FastStream) on one nats-server.

Everything runs against a nats-server this script starts on a free port, in one process, with
the same payload (a small JSON order decoded into a msgspec Struct by every consumer):

- core NATS end to end (publish -> typed handler) and publish throughput. Baselines: raw nats-py
  moving the body alone (the issue's baseline), and raw nats-py moving the same ce- headers and
  body eventbus sends in binary mode (the same bytes on the wire);
- JetStream end to end and publish, against nats-py's publish_async + pull-fetch-ack;
- publish -> handler latency, p50 and p99, at a steady 5,000 events/s, one publish per event;
- FastStream's NATS broker end to end, when ``faststream[nats]`` is installed.

Each throughput figure is the best of RUNS runs, the alternatives interleaved (shared machines
are noisy). Targets: eventbus core binary >= 0.7x raw nats-py end to end; >= 8x FastStream.
Nothing is asserted. Run: python bench/nats_throughput.py [N] [RUNS]
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import nats
from _nats import nats_server, percentile
from _nats_latency import latency
from _nats_runs import (
    bus_e2e,
    bus_publish,
    faststream_e2e,
    make_events,
    raw_core_e2e,
    raw_core_publish,
    raw_js_e2e,
    raw_js_publish,
    subject,
    wire,
)
from _util import verdict

from eventbus import ContentMode

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
RUNS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
N_JS = max(1_000, N // 5)
N_FASTSTREAM = max(1_000, N // 5)
LATENCY_RATE, LATENCY_SECONDS = 5_000, 4.0
CORE = "mode=core&core_pending_limit=2000000"


def best(cases: dict[str, Callable[[], Awaitable[float | None]]]) -> dict[str, float | None]:
    """Run each case RUNS times, interleaved, keeping its best figure."""
    results: dict[str, float | None] = dict.fromkeys(cases)
    for _ in range(RUNS):
        for name, case in cases.items():
            figure = asyncio.run(case())
            current = results[name]
            if figure is not None and (current is None or figure > current):
                results[name] = figure
    return results


def show(label: str, rate: float | None, baseline: float | None = None, base: str = "") -> None:
    if rate is None:
        print(f"  {label:44} not measured")
        return
    ratio = f"  {rate / baseline:5.2f}x {base}" if baseline else ""
    print(f"  {label:44} {rate:10,.0f} events/s{ratio}")


async def make_raw_stream(address: str) -> None:
    nc = await nats.connect(f"nats://{address}")
    await nc.jetstream().add_stream(name="RAWBENCH", subjects=["rawbench.>"], retention="interest")
    await nc.close()


def main() -> None:
    events = make_events(N)
    messages = wire(events)
    bodies = [(None, body) for _, body in messages]
    js_messages = messages[:N_JS]
    payload = len(messages[0][1])
    header_bytes = sum(len(k) + len(v) + 4 for k, v in messages[0][0].items())
    with nats_server() as address:
        asyncio.run(make_raw_stream(address))
        print(f"nats-server at {address}; payload {payload} bytes of JSON (+ {header_bytes} bytes")
        print(f"of ce- headers in binary mode); best of {RUNS} runs; N = {N:,}, JetStream {N_JS:,}")

        print("\ncore NATS, end to end (publish -> handler, typed decode)")
        e2e = best(
            {
                "raw-body": lambda: raw_core_e2e(address, bodies),
                "raw-headers": lambda: raw_core_e2e(address, messages),
                "binary": lambda: bus_e2e(address, events, CORE),
                "structured": lambda: bus_e2e(address, events, CORE, ContentMode.STRUCTURED),
            }
        )
        raw = e2e["raw-body"]
        show("raw nats-py, body only", raw)
        show("raw nats-py, same ce- headers + body", e2e["raw-headers"], raw, "raw")
        show("eventbus core, binary mode (publish_many)", e2e["binary"], raw, "raw")
        if e2e["raw-headers"] and e2e["binary"]:
            same = e2e["binary"] / e2e["raw-headers"]
            print(f"  {'':44} {same:27.2f}x raw with the same headers")
        show("eventbus core, structured mode (publish_many)", e2e["structured"], raw, "raw")

        print("\ncore NATS, publish only (until flushed)")
        pub = best(
            {
                "raw-body": lambda: raw_core_publish(address, bodies),
                "raw-headers": lambda: raw_core_publish(address, messages),
                "many": lambda: bus_publish(address, events, CORE, 1_000),
                "one": lambda: bus_publish(address, events, CORE, 1),
            }
        )
        show("raw nats-py, body only", pub["raw-body"])
        show("raw nats-py, same ce- headers + body", pub["raw-headers"], pub["raw-body"], "raw")
        show("eventbus publish_many (batches of 1,000)", pub["many"], pub["raw-body"], "raw")
        show("eventbus publish (one event per call)", pub["one"], pub["raw-body"], "raw")

        print("\nJetStream (file storage, acks)")
        js = best(
            {
                "raw-pub": lambda: raw_js_publish(address, js_messages, "rawbench.pub"),
                # fresh event ids each run: the stream drops re-sent ids (publisher dedupe)
                "bus-pub": lambda: bus_publish(
                    address, make_events(N_JS, subject("js")), "", 1_000
                ),
                "raw-e2e": lambda: raw_js_e2e(address, js_messages, "RAWBENCH"),
                "bus-e2e": lambda: bus_e2e(address, make_events(N_JS, subject("js")), ""),
            }
        )
        show("raw nats-py publish_async, all acked", js["raw-pub"])
        show("eventbus publish_many, all acked", js["bus-pub"], js["raw-pub"], "raw")
        show("raw nats-py end to end (fetch 256, ack)", js["raw-e2e"])
        show("eventbus end to end (fan-out consumer)", js["bus-e2e"], js["raw-e2e"], "raw")

        print(f"\nlatency publish -> handler at {LATENCY_RATE:,} events/s, one publish per event")
        for target in ("raw-core", "eventbus-core", "raw-jetstream", "eventbus-jetstream"):
            lat = asyncio.run(latency(address, target, LATENCY_RATE, LATENCY_SECONDS))
            p50, p99 = percentile(lat, 0.50), percentile(lat, 0.99)
            print(f"  {target:20} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   ({len(lat):,} samples)")

        print("\nFastStream NATS broker, end to end (pydantic-typed handler)")
        fs = best({"fs": lambda: faststream_e2e(address, N_FASTSTREAM)})["fs"]
        if fs is None:
            print("  not installed: pip install 'faststream[nats]' to compare")
        else:
            show("FastStream", fs)
            show("eventbus core, binary mode", e2e["binary"], fs, "FastStream")

    print("\ntargets")
    if raw and e2e["binary"]:
        ratio = e2e["binary"] / raw
        print(
            f"  >= 0.7x raw nats-py end to end (core, binary): {ratio:.2f}x {verdict(ratio >= 0.7)}"
        )
    if fs and e2e["binary"]:
        ratio = e2e["binary"] / fs
        print(
            f"  >= 8x FastStream end to end:                   {ratio:.2f}x {verdict(ratio >= 8)}"
        )


if __name__ == "__main__":
    main()
