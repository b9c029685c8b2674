"""``eventbus dlq list|show|replay URL CHANNEL``: inspect and replay dead letters."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from eventbus._cli._args import naming, positive_float, positive_int
from eventbus._errors import ConfigurationError

__all__ = ["add_parser", "parse_since", "run"]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parser(sub: Any) -> None:
    dlq = sub.add_parser("dlq", help="dead letters: list, show, replay")
    commands = dlq.add_subparsers(dest="dlq_command", metavar="COMMAND", required=True)
    helps = {
        "list": "one line per dead letter: time, id, type, reason, attempts, error",
        "show": "every selected dead letter in full, as JSON",
        "replay": "move the selected dead letters back to their original channel (or --to)",
    }
    json_help = {
        "list": "JSON lines instead of a table",
        "show": "JSON lines (one compact object per dead letter) instead of indented JSON",
        "replay": "print the outcome as one JSON object (with --dry-run: JSON lines)",
    }
    for name, text in helps.items():
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument("url", metavar="URL", help="the broker, e.g. nats://host:4222")
        cmd.add_argument("channel", metavar="CHANNEL", help="the channel whose dead letters")
        cmd.add_argument("--dlq-channel", help="the dead-letter channel (default CHANNEL.dlq)")
        cmd.add_argument("--type", dest="types", help="an event type or pattern (a.b.*, a.>)")
        cmd.add_argument(
            "--since", help="dead-lettered since: ISO time, or an age like 30m, 2h, 7d"
        )
        cmd.add_argument("--reason", help="e.g. handler-error, decode-error, validation-error")
        cmd.add_argument("--id", dest="event_id", help="one event id")
        cmd.add_argument("--limit", type=positive_int, help="at most this many")
        cmd.add_argument(
            "--idle",
            type=positive_float,
            default=1.0,
            help="adapters that cannot browse: seconds without a new dead letter means done",
        )
        cmd.add_argument("--json", action="store_true", help=json_help[name])
        if name == "replay":
            cmd.add_argument("--to", dest="to_channel", help="publish here instead")
            cmd.add_argument("--dry-run", action="store_true", help="list what would be replayed")
            cmd.add_argument(
                "--no-target-check",
                dest="check_targets",
                action="store_false",
                help="replay even where the adapter cannot tell whether the target keeps events",
            )


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``2h``, ``1.5d`` ago, or an ISO 8601 time (UTC if it names no offset)."""
    now = now or datetime.now(UTC)
    match = _DURATION.fullmatch(text.strip())
    if match:
        return now - timedelta(seconds=float(match[1]) * _UNITS[match[2]])
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ConfigurationError(
            f"--since {text!r}: expected an ISO time (2024-05-01T12:00:00Z) or an age (30m, 2h, 7d)"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _row(entry: Any) -> str:
    when = entry.attribute("deadlettertime") or "-"
    error = entry.attribute("deadlettererror") or entry.problem or ""
    error = error if len(error) <= 60 else error[:57] + "..."
    attempts = entry.attribute("deadletterattempts") or "-"
    return "  ".join(
        [when, entry.id or "-", entry.type or "-", entry.reason or "-", attempts, error]
    )


def _full(entry: Any) -> dict[str, Any]:
    from eventbus._wire._format import to_json

    if entry.event is not None:
        return {"event": json.loads(to_json(entry.event))}
    message = entry.message
    return {
        "invalid": entry.problem,
        "headers": {k: v if isinstance(v, str) else repr(v) for k, v in message.headers.items()},
        "body": message.body.decode("utf-8", "replace"),
    }


def _check_arguments(args: argparse.Namespace, adapter: Any) -> None:
    """Channel names and the type pattern are usage errors naming the argument, before
    connecting."""
    from eventbus._adapter._toolkit import ChannelNames
    from eventbus._bus._router import type_matcher

    names = ChannelNames(adapter.capabilities.limits, adapter=adapter.name)
    for argument, value in (
        ("CHANNEL", args.channel),
        ("--dlq-channel", args.dlq_channel),
        ("--to", getattr(args, "to_channel", None)),
    ):
        if value is not None:
            with naming(argument, value):
                names.channel(value)
    if args.types:
        with naming("--type", args.types):
            type_matcher(args.types)


async def _replay(args: argparse.Namespace, queue: Any, selection: Any) -> int:
    from eventbus._cli._progress import ProgressBar

    result = await queue.replay(
        selection,
        progress=ProgressBar(sys.stderr),
        to_channel=args.to_channel,
        check_targets=args.check_targets,
    )
    print(
        f"eventbus dlq: replayed {result.replayed}, skipped {result.skipped} "
        f"(invalid or no original channel), {queue.scanned} scanned on {queue.dlq_channel}",
        file=sys.stderr,
    )
    if args.json:
        outcome = {
            "replayed": result.replayed,
            "skipped": result.skipped,
            "scanned": queue.scanned,
            "dlq_channel": queue.dlq_channel,
            "failed": result.failed,
        }
        print(json.dumps(outcome))
    if result.failed:
        print(f"eventbus dlq: replay stopped: {result.failed}", file=sys.stderr)
        return 1
    return 0


async def _run(args: argparse.Namespace) -> int:
    from eventbus._adapter._plugins import create_adapter
    from eventbus._cli._progress import ScanProgress
    from eventbus._dlq._queue import DeadLetterFilter, DeadLetterQueue

    selection = DeadLetterFilter(
        types=args.types,
        since=parse_since(args.since) if args.since else None,
        reason=args.reason,
        event_id=args.event_id,
        limit=args.limit,
    )
    adapter = create_adapter(args.url)
    _check_arguments(args, adapter)
    await adapter.connect()
    try:
        dlq_channel = args.dlq_channel or f"{args.channel}.dlq"
        replaying = args.dlq_command == "replay" and not args.dry_run
        queue = DeadLetterQueue(
            adapter,
            args.channel,
            dlq_channel=dlq_channel,
            idle=args.idle,
            scan_progress=ScanProgress(sys.stderr, dlq_channel) if replaying else None,
        )
        if replaying:
            return await _replay(args, queue, selection)
        entries = await queue.list(selection)
        for entry in entries:
            if args.json:
                print(json.dumps(_full(entry), default=str))
            elif args.dlq_command == "show":
                print(json.dumps(_full(entry), indent=2, default=str))
            else:
                print(_row(entry))
        print(
            f"eventbus dlq: {len(entries)} dead letter(s) selected, {queue.scanned} scanned "
            f"on {queue.dlq_channel}",
            file=sys.stderr,
        )
        return 0
    finally:
        await adapter.close()


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
