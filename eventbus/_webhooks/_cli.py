"""``eventbus webhooks add|list|show|disable|enable|remove|test|replay|deliver``.

The endpoint store is ``--store`` (default ``$EVENTBUS_WEBHOOKS_STORE``, else
``sqlite:///webhooks.db``). ``add`` prints the endpoint's signing secret once. ``deliver``
runs the delivery consumers until SIGINT/SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
from typing import Any

from eventbus._errors import ConfigurationError

__all__ = ["add_parser", "run"]

_DEFAULT_STORE = "sqlite:///webhooks.db"


def _schedule(text: str) -> tuple[float, ...]:
    try:
        steps = tuple(float(s) for s in text.split(",") if s.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--schedule {text!r}: expected seconds separated by commas, e.g. 5,300,1800"
        ) from None
    return steps


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds > 0, got {text!r}")
    return value


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def _secret(text: str) -> str:
    from eventbus._webhooks._signature import WebhookSecret

    try:
        WebhookSecret.parse(text)
    except ConfigurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _network(text: str) -> str:
    import ipaddress

    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a network in CIDR form (10.0.0.0/8, ::1/128), got {text!r}"
        ) from None
    return text


def _host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def add_parser(sub: Any) -> None:
    hooks = sub.add_parser("webhooks", help="webhook endpoints: add, list, test, replay, deliver")
    commands = hooks.add_subparsers(dest="webhooks_command", metavar="COMMAND", required=True)

    def command(name: str, text: str, *, endpoint: bool = True, as_json: bool = False) -> Any:
        cmd = commands.add_parser(name, help=text)
        cmd.add_argument(
            "--store",
            default=os.environ.get("EVENTBUS_WEBHOOKS_STORE", _DEFAULT_STORE),
            help="sqlite:///path.db or postgresql://... (default $EVENTBUS_WEBHOOKS_STORE or "
            f"{_DEFAULT_STORE})",
        )
        if endpoint:
            cmd.add_argument("endpoint_id", metavar="ID", help="the endpoint id (ep_...)")
        if as_json:
            cmd.add_argument("--json", action="store_true", help="print JSON")
        return cmd

    add = command(
        "add",
        "add an endpoint (SSRF check, handshake); prints its secret once",
        endpoint=False,
        as_json=True,
    )
    add.add_argument("url", metavar="URL", help="http(s)://... or mailto:address")
    add.add_argument(
        "--type",
        dest="types",
        action="append",
        required=True,
        help="an event type or pattern (repeat for several)",
    )
    add.add_argument(
        "--secret",
        dest="secrets",
        action="append",
        type=_secret,
        help="a whsec_ signing secret (repeat for several; default: generated)",
    )
    add.add_argument(
        "--content-mode",
        choices=("binary", "structured"),
        default="binary",
        help="the CloudEvents HTTP content mode (default binary)",
    )
    add.add_argument("--timeout", type=_positive, default=15.0, help="seconds (default 15)")
    add.add_argument("--rate-limit", type=_count, help="requests per minute")
    add.add_argument("--schedule", type=_schedule, help="retry delays in seconds: 5,300,1800")
    add.add_argument(
        "--no-handshake",
        dest="handshake",
        action="store_false",
        help="skip the CloudEvents abuse-protection handshake",
    )
    add.add_argument("--description", default="", help="a note kept with the endpoint")
    add.add_argument(
        "--allow",
        action="append",
        default=[],
        type=_network,
        help="a network the SSRF guard lets through (CIDR, e.g. 10.0.0.0/8)",
    )
    command("list", "one line per endpoint", endpoint=False, as_json=True)
    command("show", "one endpoint in full (no secrets)", as_json=True)
    command("disable", "stop delivering to an endpoint (its pending events wait)")
    command("enable", "deliver to an endpoint again")
    command("remove", "delete an endpoint")
    test = command("test", "send a test event to the endpoint now", as_json=True)
    test.add_argument("--allow", action="append", default=[], type=_network, help="as for add")
    replay = command("replay", "send the endpoint's dead letters again", as_json=True)
    replay.add_argument("--bus", required=True, help="the broker URL, e.g. nats://host:4222")
    replay.add_argument(
        "--list",
        dest="list_only",
        action="store_true",
        help="list the dead letters (status, answer, attempts) instead",
    )
    deliver = command("deliver", "run the delivery consumers until interrupted", endpoint=False)
    deliver.add_argument("--bus", required=True, help="the broker URL")
    deliver.add_argument("--allow", action="append", default=[], type=_network, help="as for add")
    deliver.add_argument(
        "--smtp",
        type=_host_port,
        help="deliver mailto: endpoints through this SMTP server (HOST:PORT); the login is "
        "--smtp-user with the password in $EVENTBUS_SMTP_PASSWORD",
    )
    deliver.add_argument("--smtp-from", default="eventbus@localhost", help="the From address")
    deliver.add_argument("--smtp-user", help="the SMTP login (password: $EVENTBUS_SMTP_PASSWORD)")
    deliver.add_argument(
        "--breaker-threshold",
        type=_count,
        default=5,
        help="failures in a row that open an endpoint's circuit breaker (default 5)",
    )
    deliver.add_argument(
        "--breaker-cool-down",
        type=_positive,
        default=30.0,
        help="seconds an open breaker waits before a probe (default 30)",
    )
    deliver.add_argument(
        "--ack-wait",
        type=_positive,
        default=30.0,
        help="seconds before a crashed process's deliveries are retried elsewhere (default 30)",
    )
    deliver.add_argument(
        "--refresh",
        type=_positive,
        default=5.0,
        help="seconds between reads of the endpoint list (default 5)",
    )


def _print(args: argparse.Namespace, data: Any, text: str) -> None:
    print(json.dumps(data, indent=2) if getattr(args, "json", False) else text)


def _line(summary: dict[str, Any]) -> str:
    state = "enabled" if summary["enabled"] else f"disabled ({summary['disabled_reason']})"
    return f"{summary['id']}  {state}  {summary['url']}  {','.join(summary['event_types'])}"


async def _run(args: argparse.Namespace) -> int:
    from eventbus._webhooks._manage import Webhooks

    name = args.webhooks_command
    if name == "deliver":
        return await _deliver(args)
    async with Webhooks(args.store, allow=getattr(args, "allow", ())) as hooks:
        if name == "add":
            options: dict[str, Any] = {
                "content_mode": args.content_mode,
                "timeout": args.timeout,
                "rate_limit": args.rate_limit,
                "handshake": args.handshake,
                "description": args.description,
            }
            if args.secrets:
                options["secrets"] = args.secrets
            if args.schedule is not None:
                options["schedule"] = args.schedule
            endpoint = await hooks.add(args.url, args.types, **options)
            summary = endpoint.summary()
            generated = None if args.secrets else endpoint.secrets[0].reveal()
            if generated is not None:
                summary["secret"] = generated
            text = _line(summary) + (f"\nsecret (shown once): {generated}" if generated else "")
            _print(args, summary, text)
        elif name == "list":
            rows = [e.summary() for e in await hooks.list()]
            _print(args, rows, "\n".join(_line(r) for r in rows) or "no endpoints")
        elif name == "show":
            summary = (await hooks.get(args.endpoint_id)).summary()
            _print(args, summary, "\n".join(f"{k}: {v}" for k, v in summary.items()))
        elif name in ("disable", "enable"):
            endpoint = await hooks.set_enabled(args.endpoint_id, name == "enable")
            print(_line(endpoint.summary()))
        elif name == "remove":
            await hooks.remove(args.endpoint_id)
            print(f"removed {args.endpoint_id}")
        elif name == "test":
            event = await hooks.test(args.endpoint_id)
            _print(args, {"sent": event.id}, f"test event {event.id} accepted")
        elif name == "replay":
            return await _replay(args, hooks)
    return 0


async def _replay(args: argparse.Namespace, hooks: Any) -> int:
    from eventbus._bus._eventbus import EventBus

    async with EventBus(args.bus) as bus:
        if args.list_only:
            entries = await hooks.failed(bus.adapter, args.endpoint_id)
            rows = [
                {
                    "id": e.id,
                    "type": e.type,
                    "reason": e.reason,
                    "attempts": e.attribute("deadletterattempts"),
                    "error": e.attribute("deadlettererror"),
                    "time": e.attribute("deadlettertime"),
                }
                for e in entries
            ]
            text = "\n".join(
                f"{r['time']}  {r['id']}  {r['type']}  {r['reason']}  {r['attempts']}  {r['error']}"
                for r in rows
            )
            _print(args, rows, text or "no dead letters")
            return 0
        result = await hooks.replay(bus.adapter, args.endpoint_id)
    data = {"replayed": result.replayed, "skipped": result.skipped, "failed": result.failed}
    _print(
        args,
        data,
        f"replayed {result.replayed}, skipped {result.skipped}"
        + (f", stopped at: {result.failed}" if result.failed else ""),
    )
    return 1 if result.failed else 0


async def _deliver(args: argparse.Namespace) -> int:
    from eventbus._bus._eventbus import EventBus
    from eventbus._webhooks._delivery import WebhookDelivery
    from eventbus._webhooks._sinks import HttpSink
    from eventbus._webhooks._smtp import SmtpSink
    from eventbus._webhooks._ssrf import DestinationGuard
    from eventbus._webhooks._store import open_endpoint_store

    store = open_endpoint_store(args.store)
    sinks: list[Any] = []
    try:
        async with EventBus(args.bus) as bus:
            sinks.append(HttpSink(DestinationGuard(args.allow)))
            if args.smtp is not None:
                host, port = args.smtp
                sinks.append(
                    SmtpSink(
                        host,
                        port,
                        sender=args.smtp_from,
                        username=args.smtp_user,
                        password=os.environ.get("EVENTBUS_SMTP_PASSWORD"),
                    )
                )
            delivery = WebhookDelivery(
                bus,
                store,
                sinks=sinks,
                allow=args.allow,
                refresh=args.refresh,
                ack_wait=args.ack_wait,
                breaker_threshold=args.breaker_threshold,
                breaker_cool_down=args.breaker_cool_down,
            )
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            async with delivery:
                print(
                    f"eventbus webhooks: delivering to {len(delivery.endpoints)} endpoint(s)",
                    file=sys.stderr,
                    flush=True,
                )
                await stop.wait()
    finally:
        for sink in sinks:
            await sink.close()
        await store.close()
    return 0


def run(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))
