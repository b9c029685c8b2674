"""Every in-process case next to its baselines, interleaved, with medians and ratios (issue 14).

Each round runs every case once, in order on even rounds and in reverse on odd ones (A B C,
C B A, ...), so a burst of load from other processes lands on all of them alike. Figures are
CPU time of this process (``time.process_time``, which other processes on a shared machine do
not inflate the way they inflate wall time) and wall time; ratios are of medians from the same
run. Nothing is asserted: the table and the JSON are the result.

Cases (per event; "floor" = only the unavoidable work done with msgspec):
  codec      binary encode+decode (ce-headers) | msgspec floor | official cloudevents SDK
  structured decode() of a structured message | from_json of the same body
  event      Event(...) | a plain msgspec Struct with the same fields and defaults
  memory     memory:// end to end with a typed handler, publish_many and publish per event |
             asyncio.Queue floor encoding in the loop | the same floor with pre-encoded input |
             FastStream's in-memory test broker (if faststream is installed: the bench extra)

Next to the timings, the load-independent cost of each case (bench/_counts.py): Python function
calls and all calls (builtins too) per event, and CPU instructions per event counted by callgrind
when valgrind is installed (--no-instructions skips that; --counts-only skips the timings).

With --nats (starts a nats-server; events/2 per core NATS run): the cases of
bench/nats_throughput.py, core NATS and JetStream end to end against raw nats-py (timings only).

Run: python bench/compare.py [--rounds N] [--events N] [--json PATH] [--codec-only] [--nats]
(Pub/Sub, Service Bus and the others need their emulators: bench/*_throughput.py.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from _counts import calls_per_op, instructions_per_op, valgrind

from eventbus import ContentMode, Event, EventBus, decode, encode, from_json, to_json
from eventbus._wire._types import new_id, utc_now


class Order(msgspec.Struct):
    order_id: str
    customer: str
    amount_cents: int


class PlainEvent(msgspec.Struct, kw_only=True):
    """Event's fields and defaults with no validation: the construction floor."""

    type: str
    source: str
    data: Any = None
    id: str = msgspec.field(default_factory=new_id)
    time: datetime | None = msgspec.field(default_factory=utc_now)
    subject: str | None = None
    datacontenttype: str | None = None
    dataschema: str | None = None
    specversion: str = "1.0"
    extensions: dict[str, Any] = msgspec.field(default_factory=dict)


Sample = tuple[float, float]  # (cpu seconds per item, wall seconds per item)


def timed(fn: Callable[[], object], n: int) -> Sample:
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(n):
        fn()
    return (time.process_time() - cpu) / n, (time.perf_counter() - wall) / n


def per_event(run: Callable[[], object], events: int) -> Sample:
    """One call of ``run`` (which handles ``events`` events), per event."""
    cpu, wall = timed(run, 1)
    return cpu / events, wall / events


# -- codec cases ---------------------------------------------------------------------------------


def codec_ops() -> dict[str, Callable[[], object]]:
    """One operation of each codec case (what is timed, and counted by ``--counts``)."""
    event = Event(
        type="com.example.shop.order.placed",
        source="/shop/orders",
        subject="o-1001",
        data=Order("o-1001", "ada", 4200),
        extensions={"partitionkey": "ada"},
    )
    message = encode(event, "ce-headers")
    headers, order = dict(message.headers), event.data
    encoder, decoder = msgspec.json.Encoder(), msgspec.json.Decoder(Order)

    header_decoder = msgspec.json.Decoder(dict[str, str])

    def floor() -> object:  # headers and data encoded with msgspec, decoded (data into Order)
        wire_headers, body = encoder.encode(headers), encoder.encode(order)
        return header_decoder.decode(wire_headers), decoder.decode(body)

    structured = encode(event, "ce-headers", ContentMode.STRUCTURED)
    body = to_json(event)
    ops: dict[str, Callable[[], object]] = {
        "codec: eventbus binary encode+decode": lambda: decode(
            encode(event, "ce-headers"), "ce-headers", Order
        ),
        "codec: msgspec floor": floor,
        "structured: decode()": lambda: decode(structured, "ce-headers", Order),
        "structured: from_json": lambda: from_json(body, Order),
        "event: Event(...)": lambda: Event(type="com.example.t", source="/s", data=order),
        "event: plain Struct": lambda: PlainEvent(type="com.example.t", source="/s", data=order),
    }
    try:
        from cloudevents.core.bindings import http as sdk_http
        from cloudevents.core.formats.json import JSONFormat

        from eventbus import to_sdk
    except ImportError:
        return ops
    fmt = JSONFormat()
    sdk_event = to_sdk(event.replace(data={"order_id": "o-1001", "customer": "ada"}))

    def sdk() -> object:
        return sdk_http.from_binary(sdk_http.to_binary(sdk_event, fmt), fmt)

    ops["codec: official SDK"] = sdk
    return ops


def codec_cases(n: int) -> dict[str, Callable[[], Sample]]:
    cases: dict[str, Callable[[], Sample]] = {}
    for name, op in codec_ops().items():
        calls = max(1, n // 5) if name == "codec: official SDK" else n
        cases[name] = lambda op=op, calls=calls: timed(op, calls)  # type: ignore[misc]
    return cases


# -- memory:// end to end ------------------------------------------------------------------------


def make_events(n: int) -> list[Event[Order]]:
    return [
        Event(type="bench.order.placed", source="/bench", data=Order(f"o-{i}", "ada", i))
        for i in range(n)
    ]


async def queue_floor(events: list[Event[Order]], messages: list[Any] | None) -> None:
    """An asyncio.Queue moving a header dict and the body; the body decoded into Order.

    With ``messages`` (encoded before the clock starts) they are moved as they are; otherwise
    each event's attributes and data are encoded with msgspec in the loop."""
    n = len(events)
    header_encoder = msgspec.json.Encoder()
    body_encoder = msgspec.json.Encoder()
    decoder = msgspec.json.Decoder(Order)
    queue: asyncio.Queue[tuple[dict[str, str], bytes]] = asyncio.Queue(maxsize=10_000)
    done = asyncio.get_running_loop().create_future()
    count = 0

    async def consumer() -> None:
        nonlocal count
        while True:
            headers, body = await queue.get()
            _ = (headers["ce-id"], headers["ce-type"], decoder.decode(body))
            count += 1
            if count == n:
                done.set_result(None)

    task = asyncio.create_task(consumer())
    if messages is not None:
        for m in messages:
            await queue.put((dict(m.headers), m.body))
    else:
        for e in events:  # the attributes as strings, the data as JSON: encoded in the loop
            headers = {
                "ce-specversion": e.specversion,
                "ce-id": e.id,
                "ce-source": e.source,
                "ce-type": e.type,
                "ce-time": header_encoder.encode(e.time).decode()[1:-1],
            }
            await queue.put((headers, body_encoder.encode(e.data)))
    await done
    task.cancel()


_runs = iter(range(1_000_000))


async def bus_run(events: list[Event[Order]], batch: int) -> None:
    n = len(events)
    done = asyncio.get_running_loop().create_future()
    count = 0
    async with EventBus(f"memory://compare-{next(_runs)}") as bus:

        async def handler(event: Event[Order]) -> None:
            nonlocal count
            count += 1
            if count == n:
                done.set_result(None)

        await bus.subscribe("bench.order.placed", handler, max_in_flight=256)
        if batch > 1:
            for i in range(0, n, batch):
                await bus.publish_many(events[i : i + batch])
        else:
            for event in events:
                await bus.publish(event)
        await done


try:  # the bench extra: FastStream types a handler's message with a pydantic model
    import faststream  # noqa: F401
    from pydantic import BaseModel

    class PydanticOrder(BaseModel):
        order_id: str
        customer: str
        amount_cents: int

except ImportError:
    PydanticOrder = None  # type: ignore[assignment,misc]


def faststream_run(events: list[Event[Order]]) -> Callable[[], Any] | None:
    if PydanticOrder is None:
        return None
    from faststream.nats import NatsBroker, TestNatsBroker

    bodies = [msgspec.structs.asdict(e.data) for e in events if e.data is not None]

    async def run() -> None:
        broker = NatsBroker()
        n = len(events)
        count = 0

        @broker.subscriber("bench.order.placed")
        async def handler(order: PydanticOrder) -> None:
            nonlocal count
            count += 1

        async with TestNatsBroker(broker) as test_broker:
            for body in bodies:
                await test_broker.publish(body, "bench.order.placed")
        assert count == n

    return run


def memory_cases(n: int) -> dict[str, Callable[[], Sample]]:
    cases: dict[str, Callable[[], Sample]] = {}
    for name, (run, events) in memory_ops(n).items():
        cases[name] = lambda run=run, events=events: per_event(run, events)  # type: ignore[misc]
    return cases


def memory_ops(n: int) -> dict[str, tuple[Callable[[], object], int]]:
    """One run of each memory case over ``n`` events, and ``n`` (for the counts per event)."""
    events = make_events(n)
    messages = [encode(e, "ce-headers") for e in events]
    ops: dict[str, tuple[Callable[[], object], int]] = {
        "memory: eventbus publish_many": (lambda: asyncio.run(bus_run(events, 1000)), n),
        "memory: eventbus publish": (lambda: asyncio.run(bus_run(events, 1)), n),
        "memory: floor encoding in loop": (lambda: asyncio.run(queue_floor(events, None)), n),
        "memory: floor pre-encoded": (lambda: asyncio.run(queue_floor(events, messages)), n),
    }
    small = max(1, n // 10)
    fs = faststream_run(events[:small])
    if fs is not None:
        ops["memory: FastStream test broker"] = (lambda: asyncio.run(fs()), small)
    return ops


def count_ops(n: int) -> dict[str, tuple[Callable[[], object], int]]:
    """Every case as ``(fn, operations per call)`` for bench/_counts.py (memory runs: 2,000
    events each, so a run's set-up is spread over many events)."""
    return {
        **{name: (op, 1) for name, op in codec_ops().items()},
        **memory_ops(2_000),
    }


# -- running and reporting -----------------------------------------------------------------------

RATIOS = [  # (what, case, baseline, "rate": higher is better for case/baseline of rates)
    ("binary encode+decode / msgspec floor", "codec: eventbus binary encode+decode", "codec: msgspec floor"),
    ("official SDK / eventbus (codec)", "codec: official SDK", "codec: eventbus binary encode+decode"),
    ("structured decode() / from_json", "structured: decode()", "structured: from_json"),
    ("Event(...) / plain Struct", "event: Event(...)", "event: plain Struct"),
    ("memory publish_many rate / floor in loop", "memory: floor encoding in loop", "memory: eventbus publish_many"),
    ("memory publish_many rate / pre-encoded floor", "memory: floor pre-encoded", "memory: eventbus publish_many"),
    ("memory publish per event / publish_many (cost)", "memory: eventbus publish", "memory: eventbus publish_many"),
    ("FastStream / eventbus (cost per event)", "memory: FastStream test broker", "memory: eventbus publish_many"),
]  # fmt: skip


def counts(names: list[str], instructions: bool) -> dict[str, dict[str, float]]:
    """Python calls (and, with valgrind, CPU instructions) per event of each case."""
    ops = count_ops(2_000)
    out: dict[str, dict[str, float]] = {}
    for name in names:
        fn, per = ops[name]
        reps = max(1, 2_000 // per)
        python, every = calls_per_op(fn, reps)
        out[name] = {"calls": python / per, "all_calls": every / per}
    if instructions:
        got = instructions_per_op("compare", "count_ops", names, 2_000)
        for name, value in got.items():
            out[name]["instructions"] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=20_000, help="calls per codec sample")
    parser.add_argument("--events", type=int, default=100_000, help="events per memory run")
    parser.add_argument("--json", type=Path, default=Path("bench-compare.json"))
    parser.add_argument("--codec-only", action="store_true", help="skip the memory:// cases")
    parser.add_argument(
        "--no-instructions",
        action="store_true",
        help="skip the callgrind instruction counts (about two minutes under valgrind)",
    )
    parser.add_argument(
        "--counts-only",
        action="store_true",
        help="only the load-independent counts (calls, instructions), no timings",
    )
    parser.add_argument(
        "--nats",
        action="store_true",
        help="also the NATS cases of bench/nats_throughput.py (starts a nats-server)",
    )
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        run(args, stack)


def run(args: argparse.Namespace, stack: contextlib.ExitStack) -> None:
    cases = codec_cases(args.calls)
    if not args.codec_only:
        cases.update(memory_cases(args.events))
    ratio_specs = list(RATIOS)
    timed_only: set[str] = set()  # cases without call counts (a server in another process)
    if args.nats:
        from _nats import nats_server
        from nats_throughput import RATIOS as NATS_RATIOS
        from nats_throughput import nats_cases

        nats = nats_cases(stack.enter_context(nats_server()), args.events // 2)
        cases.update(nats)
        timed_only.update(nats)
        ratio_specs += NATS_RATIOS
    samples: dict[str, list[Sample]] = {name: [] for name in cases}
    if not args.counts_only:
        for run in cases.values():  # warm-up: imports, caches, first-run allocations
            run()
        for r in range(args.rounds):
            order = list(cases) if r % 2 == 0 else list(reversed(cases))
            for name in order:
                samples[name].append(cases[name]())
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    instructions = not args.no_instructions and valgrind() is not None
    if not args.no_instructions and not instructions:
        print("valgrind not found: no instruction counts (apt-get install -y valgrind)")
    per_op = counts([name for name in cases if name not in timed_only], instructions)

    rows: dict[str, dict[str, Any]] = {}
    print(
        f"{'case':40} {'cpu µs/event min/median/max':>30} {'wall µs median':>15}"
        f" {'py calls':>9} {'all calls':>9} {'instr/event':>12}"
    )
    for name, got in samples.items():
        row: dict[str, Any] = dict(per_op.get(name, {}))
        times = "-"
        if got:
            cpu = sorted(s[0] * 1e6 for s in got)
            wall = statistics.median(s[1] * 1e6 for s in got)
            row.update(cpu_us=cpu, cpu_median_us=statistics.median(cpu), wall_median_us=wall)
            times = f"{cpu[0]:9.2f} {statistics.median(cpu):9.2f} {cpu[-1]:9.2f}  {wall:13.2f}"
        rows[name] = row
        instr = row.get("instructions")
        print(
            f"{name:40} {times:>45} {row.get('calls', math.nan):9.1f}"
            f" {row.get('all_calls', math.nan):9.1f} {'-' if instr is None else f'{instr:,.0f}':>12}"
        )
    print()
    print(f"{'ratio':52} {'cpu time':>8} {'calls':>8} {'instr':>8} {'wall':>8}")
    ratios: dict[str, dict[str, float]] = {}
    for what, a, b in ratio_specs:
        if a in rows and b in rows:
            ratio: dict[str, float] = {}
            for key, kind in (
                ("cpu", "cpu_median_us"),
                ("calls", "all_calls"),
                ("instr", "instructions"),
                ("wall", "wall_median_us"),
            ):
                if kind in rows[a] and kind in rows[b] and rows[b][kind]:
                    ratio[key] = rows[a][kind] / rows[b][kind]
            ratios[what] = ratio
            cells = [
                f"{ratio[k]:7.2f}x" if k in ratio else f"{'-':>8}"
                for k in ("cpu", "calls", "instr", "wall")
            ]
            print(f"{what:52} {' '.join(cells)}")
    load = os.getloadavg()
    args.json.write_text(
        json.dumps(
            {"rounds": args.rounds, "loadavg": load, "cases": rows, "ratios": ratios}, indent=2
        )
    )
    print(f"\nload average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; written: {args.json}")
    if args.nats:
        from nats_throughput import show_targets

        show_targets(ratios)


if __name__ == "__main__":
    main()
