"""``eventbus outbox relay DB_URL BUS_URL``: run the outbox relay from the command line."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    outbox = sub.add_parser("outbox", help="transactional outbox: run the relay")
    commands = outbox.add_subparsers(dest="outbox_command", metavar="COMMAND", required=True)
    relay = commands.add_parser(
        "relay", help="publish the outbox's unsent events in order, then mark them sent"
    )
    relay.add_argument("db_url", metavar="DB_URL", help="sqlite:///path.db or postgresql://...")
    relay.add_argument("bus_url", metavar="BUS_URL", help="the broker to publish to")
    relay.add_argument("--table", default="eventbus_outbox")
    relay.add_argument("--batch-size", type=int, default=100)
    relay.add_argument("--poll-interval", type=float, default=0.5, help="seconds (default 0.5)")
    relay.add_argument("--lease", type=float, default=15.0, help="relay lease in seconds")
    relay.add_argument("--name", default="default", help="lease name: one relay per name")
    relay.add_argument(
        "--once", action="store_true", help="relay what is there now, then exit (0: all sent)"
    )


async def _relay(args: argparse.Namespace) -> int:
    from eventbus._bus._eventbus import EventBus
    from eventbus._outbox import OutboxRelay, open_outbox

    outbox = open_outbox(args.db_url, table=args.table)
    try:
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
                return 0
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
            return 0
    finally:
        await outbox.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_relay(args))
