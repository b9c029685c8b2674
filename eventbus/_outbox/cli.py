"""``eventbus outbox relay|status DB_URL ...``: run the outbox relay, or see what waits in it."""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from typing import Any

from eventbus._cli._args import positive_float, positive_int

__all__ = ["add_parser", "run"]

_DB_HELP = "sqlite:///path.db or postgresql://..."


def add_parser(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="transactional outbox: run the relay, see its status")
    commands = outbox.add_subparsers(dest="outbox_command", metavar="COMMAND", required=True)
    relay = commands.add_parser(
        "relay", help="publish the outbox's unsent events in order, then mark them sent"
    )
    relay.add_argument("db_url", metavar="DB_URL", help=_DB_HELP)
    relay.add_argument("bus_url", metavar="BUS_URL", help="the broker to publish to")
    relay.add_argument(
        "--table", default="eventbus_outbox", help="the outbox table (default eventbus_outbox)"
    )
    relay.add_argument(
        "--batch-size", type=positive_int, default=100, help="rows per read (default 100)"
    )
    relay.add_argument(
        "--poll-interval", type=positive_float, default=0.5, help="seconds (default 0.5)"
    )
    relay.add_argument(
        "--lease", type=positive_float, default=15.0, help="relay lease in seconds (default 15)"
    )
    relay.add_argument("--name", default="default", help="lease name: one relay per name")
    relay.add_argument(
        "--once", action="store_true", help="relay what is there now, then exit (0: all sent)"
    )
    relay.add_argument(
        "--json",
        action="store_true",
        help="when done, print one JSON object: outbox, relayed, batches, failures, pending",
    )
    status = commands.add_parser("status", help="how many events wait in the outbox, unsent")
    status.add_argument("db_url", metavar="DB_URL", help=_DB_HELP)
    status.add_argument(
        "--table", default="eventbus_outbox", help="the outbox table (default eventbus_outbox)"
    )
    status.add_argument("--json", action="store_true", help="print one JSON object")


async def _relay(args: argparse.Namespace, outbox: Any) -> int:
    from eventbus._bus._eventbus import EventBus
    from eventbus._outbox import OutboxRelay

    async with EventBus(args.bus_url) as bus:
        relay = OutboxRelay(
            outbox,
            bus,
            batch_size=args.batch_size,
            poll_interval=args.poll_interval,
            lease=args.lease,
            name=args.name,
        )
        if args.once:
            count = await relay.drain()
            print(f"eventbus outbox: relayed {count} event(s)", file=sys.stderr)
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            print(f"eventbus outbox: relaying {outbox.name}", file=sys.stderr, flush=True)
            await relay.run(stop)
            print(
                f"eventbus outbox: stopped after relaying {relay.stats.published} event(s)",
                file=sys.stderr,
            )
    if args.json:
        stats = relay.stats
        report = {
            "outbox": outbox.name,
            "relayed": stats.published,
            "batches": stats.batches,
            "failures": stats.failures,
            "pending": await outbox.pending(),
        }
        print(json.dumps(report))
    return 0


async def _run(args: argparse.Namespace) -> int:
    from eventbus._outbox import open_outbox

    outbox = open_outbox(args.db_url, table=args.table)
    try:
        if args.outbox_command == "relay":
            return await _relay(args, outbox)
        pending = await outbox.pending()
        if args.json:
            print(json.dumps({"outbox": outbox.name, "table": args.table, "pending": pending}))
        else:
            print(f"{outbox.name}: {pending} event(s) pending")
        return 0
    finally:
        await outbox.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
