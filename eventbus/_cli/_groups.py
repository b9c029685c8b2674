"""``eventbus groups list|delete URL ...``: see and remove durable consumer groups.

A consumer group keeps every message published to its channel until a member settles it, also
while nobody listens (``eventbus tail --group`` makes one). These commands show the groups the
broker holds and delete one that is no longer wanted, with what it kept.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from eventbus._adapter._contract import GroupAdminAdapter, Semantic
from eventbus._errors import UnsupportedSemanticError

__all__ = ["add_parser", "run"]


def add_parser(sub: Any) -> None:
    groups = sub.add_parser("groups", help="durable consumer groups: list, delete")
    commands = groups.add_subparsers(dest="groups_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="one line per group: channel, group, pending")
    listing.add_argument("url", metavar="URL", help="the broker, e.g. nats://host:4222")
    listing.add_argument("channel", metavar="CHANNEL", nargs="?", help="only this channel's")
    listing.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    delete = commands.add_parser("delete", help="delete a group and the messages it kept")
    delete.add_argument("url", metavar="URL", help="the broker, e.g. nats://host:4222")
    delete.add_argument("channel", metavar="CHANNEL", help="the channel the group reads")
    delete.add_argument("group", metavar="GROUP", help="the consumer group to delete")


async def _run(args: argparse.Namespace) -> int:
    from eventbus._adapter._plugins import create_adapter

    adapter = create_adapter(args.url)
    if not (
        isinstance(adapter, GroupAdminAdapter) and adapter.capabilities.has(Semantic.GROUP_ADMIN)
    ):
        raise UnsupportedSemanticError(
            "group-admin", adapter.name, "it cannot list or delete consumer groups"
        )
    await adapter.connect()
    try:
        if args.groups_command == "delete":
            await adapter.delete_group(args.channel, args.group)
            print(
                f"eventbus groups: deleted group {args.group!r} of {args.channel!r}",
                file=sys.stderr,
            )
            return 0
        found = sorted(await adapter.list_groups(args.channel), key=lambda g: (g.channel, g.group))
        for info in found:
            pending = "-" if info.pending is None else str(info.pending)
            if args.json:
                row = {
                    "channel": info.channel,
                    "group": info.group,
                    "pending": info.pending,
                    "resource": info.resource,
                }
                print(json.dumps(row))
            else:
                print("  ".join([info.channel, info.group, pending, info.resource]))
        print(f"eventbus groups: {len(found)} group(s)", file=sys.stderr)
        return 0
    finally:
        await adapter.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
