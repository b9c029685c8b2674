"""``eventbus publish``: one event, every attribute, from the command line.

Extensions are strings unless typed explicitly, as httpie does: ``--extension tenant=007`` is the
string ``"007"``, ``--extension n:=123`` the Integer 123, ``--extension flag:=true`` the
Boolean. Data: ``--data`` takes JSON; ``--data-file PATH`` (``-`` for stdin) takes bytes, read as
JSON for a JSON ``--datacontenttype``, as UTF-8 text for ``text/*``, as binary otherwise
(``application/octet-stream`` unless told). ``--time`` takes an RFC 3339 timestamp or ``none``.
The content mode is the adapter's default unless ``--binary`` or ``--structured`` says.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from eventbus._cli._args import naming
from eventbus._errors import ConfigurationError, InvalidEventError, Problem
from eventbus._wire._data import is_json_type
from eventbus._wire._types import parse_time

__all__ = ["add_parser", "build_event", "parse_extension", "publish"]


def add_parser(sub: Any) -> None:
    pub = sub.add_parser(
        "publish",
        help="publish one event and print its id (--json: what was published)",
        description="Publish one CloudEvent. Exit codes: 0 published, 1 the broker failed, "
        "2 a bad argument (named in the message).",
    )
    pub.add_argument("url", metavar="URL", help="the broker, e.g. nats://host:4222 or memory://")
    pub.add_argument(
        "--type",
        required=True,
        dest="event_type",
        metavar="TYPE",
        help="the event type, e.g. shop.order.placed (it picks the channel)",
    )
    pub.add_argument("--source", required=True, help="the event source, a URI reference")
    data = pub.add_mutually_exclusive_group()
    data.add_argument("--data", default=None, help="JSON data")
    data.add_argument(
        "--data-file",
        default=None,
        metavar="PATH",
        help="data from a file ('-': stdin): JSON for a JSON --datacontenttype, text for "
        "text/*, otherwise binary (application/octet-stream unless --datacontenttype says)",
    )
    pub.add_argument("--subject", help="the subject within the source, e.g. an order id")
    pub.add_argument("--id", dest="event_id", help="the event id (default: a new UUID)")
    pub.add_argument("--time", help="RFC 3339 timestamp, or 'none' (default: now)")
    pub.add_argument("--dataschema", help="URI of the data's schema")
    pub.add_argument(
        "--datacontenttype",
        help="media type of the data (default: application/json for --data)",
    )
    pub.add_argument(
        "--extension",
        action="append",
        default=[],
        metavar="NAME=TEXT|NAME:=JSON",
        help="NAME=VALUE is a string; NAME:=123 an integer, NAME:=true a boolean",
    )
    mode = pub.add_mutually_exclusive_group()
    mode.add_argument("--structured", action="store_true", help="structured content mode")
    mode.add_argument("--binary", action="store_true", help="binary content mode")
    pub.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object: id, type, source, subject, topic (the channel), outcome",
    )


def parse_extension(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` (a string, as given) or ``NAME:=JSON`` (an integer, boolean or string)."""
    name, sep, raw = text.partition("=")
    if not sep:
        raise ConfigurationError(f"--extension {text!r}: expected NAME=VALUE or NAME:=JSON")
    if not name.endswith(":"):
        return name, raw
    name = name[:-1]
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        raise ConfigurationError(
            f"--extension {name}:={raw!r}: not a JSON value (quote strings or use {name}=...)"
        ) from None
    if not isinstance(value, bool | int | str):
        raise ConfigurationError(
            f"--extension {name}:={raw!r}: an extension is an integer, boolean or string"
        )
    return name, value


def _file_data(path: str, ctype: str | None) -> tuple[Any, str]:
    raw = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    if ctype is None:
        return raw, "application/octet-stream"
    media = ctype.split(";", 1)[0].strip().lower()
    try:
        if is_json_type(ctype):
            return json.loads(raw), ctype
        if media.startswith("text/"):
            return raw.decode("utf-8"), ctype
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"--data-file {path!r} does not hold {media}: {exc}") from None
    return raw, ctype


def build_event(args: argparse.Namespace) -> Any:
    from eventbus._wire._event import Event

    ctype = args.datacontenttype
    data: Any = None
    if args.data is not None:
        try:
            data = json.loads(args.data)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"--data is not valid JSON: {exc}") from None
    elif args.data_file is not None:
        try:
            data, ctype = _file_data(args.data_file, ctype)
        except OSError as exc:
            raise ConfigurationError(f"--data-file: {exc.strerror}: {args.data_file}") from None
    fields: dict[str, Any] = {}
    if args.event_id is not None:
        fields["id"] = args.event_id
    if args.time is not None:
        if args.time.lower() == "none":
            fields["time"] = None
        else:
            try:
                fields["time"] = parse_time(args.time)
            except ValueError as exc:
                raise ConfigurationError(f"--time: {exc}") from None
    extensions = dict(parse_extension(e) for e in args.extension)
    try:
        return Event(
            type=args.event_type,
            source=args.source,
            data=data,
            subject=args.subject,
            dataschema=args.dataschema,
            datacontenttype=ctype,
            extensions=extensions,
            **fields,
        )
    except InvalidEventError as exc:
        problems = "; ".join(_named(p) for p in exc.problems)
        raise ConfigurationError(f"invalid event: {problems}") from None


_FLAGS = {"type": "--type", "id": "--id", "data": "--data", "specversion": "--type"}


def _named(problem: Problem) -> str:
    """A problem of the event named by the argument that set it (``--extension Bad``)."""
    where = problem.where
    if where.startswith("extensions."):
        flag = f"--extension {where.removeprefix('extensions.')}"
    else:
        flag = _FLAGS.get(where, f"--{where.split('/', 1)[0].split('.', 1)[0]}")
    return f"{flag} ({where}): {problem.message}"


async def publish(args: argparse.Namespace) -> dict[str, Any]:
    """Publish the event the arguments describe; what was published (``--json``'s object).

    A bad argument raises ConfigurationError naming it, before anything connects: an event
    type that routes to a channel the broker cannot name is named as ``--type``.
    """
    from eventbus._adapter._toolkit import ChannelNames
    from eventbus._bus._eventbus import EventBus

    event = build_event(args)
    mode = "structured" if args.structured else "binary" if args.binary else None
    bus = EventBus(args.url, content_mode=mode)
    topic = bus.router.channel_for(event.type)
    with naming("--type", event.type):
        ChannelNames(bus.capabilities.limits, adapter=bus.adapter.name).channel(topic)
    async with bus:
        await bus.publish(event)
    return {
        "id": event.id,
        "type": event.type,
        "source": event.source,
        "subject": event.subject,
        "topic": topic,
        "outcome": "published",
    }
