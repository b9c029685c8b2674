"""The ``eventbus`` command line. Exit codes: 0 success, 1 failure, 2 usage."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from eventbus._adapter._contract import Semantic
from eventbus._cli._args import naming, positive_float, positive_int
from eventbus._errors import ConfigurationError, EventBusError, InvalidEventError

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 on usage errors, as we want
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parser() -> argparse.ArgumentParser:
    from eventbus import __version__

    p = _Parser(prog="eventbus", description="CloudEvents over any broker, one API.")
    p.add_argument("--version", action="version", version=f"eventbus {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    adapters = sub.add_parser(
        "adapters", help="list installed adapters, their schemes and capabilities"
    )
    adapters.add_argument("--json", action="store_true", help="print one JSON object")
    sub.add_parser("demo", help="run a small order flow on the in-memory bus")

    from eventbus._cli._publish import add_parser as add_publish_parser

    add_publish_parser(sub)

    tail = sub.add_parser("tail", help="print received events as JSON lines")
    tail.add_argument("url", metavar="URL", help="the broker, e.g. nats://host:4222")
    tail.add_argument(
        "pattern", metavar="TYPE_OR_PATTERN", help="an event type or pattern (shop.*, shop.>)"
    )
    tail.add_argument(
        "--group",
        help="join this durable consumer group (it keeps events after tail exits; remove it "
        "with 'eventbus groups delete')",
    )
    tail.add_argument("--channel", help="listen on this channel instead of the routed one")
    tail.add_argument("--count", type=positive_int, default=None, help="exit after N events")
    tail.add_argument(
        "--timeout", type=positive_float, default=None, help="exit 1 after T seconds idle"
    )
    from eventbus._contracts.cli import add_parser as add_contracts_parser

    add_contracts_parser(sub)
    from eventbus._cli._groups import add_parser as add_groups_parser
    from eventbus._dlq._cli import add_parser as add_dlq_parser
    from eventbus._outbox.cli import add_parser as add_outbox_parser

    add_dlq_parser(sub)
    add_groups_parser(sub)
    add_outbox_parser(sub)
    from eventbus._jobs._cli import add_parser as add_jobs_parser

    add_jobs_parser(sub)
    from eventbus._runtime import add_parser as add_run_parser
    from eventbus._webhooks._cli import add_parser as add_webhooks_parser

    add_run_parser(sub)
    add_webhooks_parser(sub)
    return p


def _cmd_adapters(as_json: bool = False) -> int:
    from eventbus._adapter._plugins import adapter_infos

    infos = adapter_infos()
    semantics = list(Semantic)
    if as_json:
        import json

        listing = {
            scheme: {
                "distribution": info.distribution,
                "description": info.description,
                "capabilities": {s.value: info.capabilities.support(s).value for s in semantics},
            }
            for scheme, info in sorted(infos.items())
        }
        print(json.dumps({"adapters": listing}, indent=2))
        return EXIT_OK
    width = max(len(s.value) for s in semantics) + 2
    schemes = sorted(infos)
    print("installed adapters:")
    for scheme in schemes:
        info = infos[scheme]
        print(f"  {scheme}://  ({info.distribution})  {info.description}")
    print()
    print("semantic".ljust(width) + "".join(s.ljust(12) for s in schemes))
    for sem in semantics:
        row = sem.value.ljust(width)
        row += "".join(infos[s].capabilities.support(sem).value.ljust(12) for s in schemes)
        print(row)
    return EXIT_OK


async def _publish(args: argparse.Namespace) -> int:
    from eventbus._cli._publish import publish

    published = await publish(args)
    if args.json:
        import json

        print(json.dumps(published))
    else:
        print(published["id"])
    return EXIT_OK


async def _tail(args: argparse.Namespace) -> int:
    from eventbus._bus._eventbus import EventBus
    from eventbus._wire._event import Event
    from eventbus._wire._format import to_json

    seen = 0
    finished = asyncio.Event()
    activity = asyncio.Event()
    bus = EventBus(args.url)

    async def show(event: Event[Any]) -> None:
        nonlocal seen
        if finished.is_set():  # past --count: hold it until we stop, so it is redelivered
            await asyncio.Event().wait()
        seen += 1
        sys.stdout.write(to_json(event).decode() + "\n")
        sys.stdout.flush()
        activity.set()
        if args.count is not None and seen >= args.count:
            finished.set()

    options: dict[str, Any] = {"group": args.group, "dead_letter_channel": False}
    if args.channel:
        options["channel"] = args.channel
    argument, value = ("--channel", args.channel) if args.channel else ("TYPE_OR_PATTERN", "")
    with naming(argument, value or args.pattern):
        subscription = bus.subscribe(args.pattern, show, max_in_flight=1, **options)
    if args.group is not None:
        channel = subscription.spec.channel
        if bus.capabilities.has(Semantic.AT_LEAST_ONCE):
            notice = (
                f"joining the durable consumer group {args.group!r} on {channel!r}: it keeps "
                "every event published there from now on, also after tail exits, until removed "
                f"with: eventbus groups delete URL {channel} {args.group}"
            )
        else:
            notice = (
                f"joining the consumer group {args.group!r} on {channel!r} (not durable on "
                "this broker: it keeps nothing while no member listens)"
            )
        print(f"eventbus tail: {notice}", file=sys.stderr)
    await bus.open()
    try:
        while not finished.is_set():
            activity.clear()
            waiters = [
                asyncio.ensure_future(finished.wait()),
                asyncio.ensure_future(activity.wait()),
            ]
            done, pending = await asyncio.wait(
                waiters, timeout=args.timeout, return_when=asyncio.FIRST_COMPLETED
            )
            for w in pending:
                w.cancel()
            if not done:
                print(f"eventbus tail: no event for {args.timeout} s", file=sys.stderr)
                return EXIT_FAILURE
    finally:
        await bus.close(timeout=1.0)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "adapters":
            return _cmd_adapters(args.json)
        if args.command == "demo":
            from eventbus._cli._demo import main as demo_main

            return demo_main()
        if args.command == "publish":
            return asyncio.run(_publish(args))
        if args.command == "tail":
            return asyncio.run(_tail(args))
        if args.command == "dlq":
            from eventbus._dlq._cli import run as run_dlq

            return run_dlq(args)
        if args.command == "groups":
            from eventbus._cli._groups import run as run_groups

            return run_groups(args)
        if args.command == "outbox":
            from eventbus._outbox.cli import run as run_outbox

            return run_outbox(args)
        if args.command == "jobs":
            from eventbus._jobs._cli import run as run_jobs

            return run_jobs(args)
        if args.command == "run":
            from eventbus._runtime import run as run_service

            return run_service(args)
        if args.command == "webhooks":
            from eventbus._webhooks._cli import run as run_webhooks

            return run_webhooks(args)
        if args.command == "contracts":
            from eventbus._contracts.cli import run as run_contracts

            return run_contracts(args)
    except (ConfigurationError, InvalidEventError) as exc:  # bad arguments
        print(f"eventbus: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except EventBusError as exc:
        print(f"eventbus: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    except KeyboardInterrupt:  # Ctrl-C: quiet, the shell's convention 128 + SIGINT
        return EXIT_INTERRUPTED
    parser.error(f"unknown command {args.command!r}")
    return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
